/**
 * app/v1 IDKeyAuthnMiddleware (AILERON's fields and defaults, aileron-app.md §1.6): an id and its API key in two
 * request headers, checked against pairs from environment variables (default) or files, stored plain, hashed,
 * HMAC'd and/or AES-encrypted. See middleware.ts and docs/reference/app/idkeyauthnmiddleware.md.
 */
import { defineResource, type Fail, failureOf } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import { envPairs, readCredentialFiles } from '../credentials.ts';
import { keyTransformOf, keyTransformProblems } from '../keyhash.ts';
import {
  authnErrorHandler,
  ClaimsKeyField,
  CryptSecretField,
  CryptTypeField,
  commonProblems,
  decryptAll,
  EncodingField,
  ErrorHandlerField,
  fileProviderSpec,
  HashAlgField,
  HMACSecretField,
  KeepCredentialsField,
  LoggerField,
  orFail,
  SubjectHeaderField,
} from '../spec.ts';
import { IDKeyAuthnMiddleware, type StoredIDKey } from './middleware.ts';

const HeaderName = (def: string, description: string) =>
  Type.String({ default: def, pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$", description });

export const IDKeyAuthnMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  keepCredentials: KeepCredentialsField,
  keyHeaderName: HeaderName('X-Api-Key', 'request header that carries the API key'),
  idHeaderName: HeaderName('X-Api-Id', 'request header that carries the id of the key'),
  hashAlg: HashAlgField,
  hmacSecret: HMACSecretField,
  commonKeyCryptType: CryptTypeField,
  cryptSecret: CryptSecretField,
  envProvider: Type.Optional(
    Obj(
      {
        keyPrefix: Type.String({
          default: 'GATEWAY_APIKEY_KEY_',
          description: 'environment variables <prefix><n> hold the key of id n',
        }),
        idPrefix: Type.String({
          default: 'GATEWAY_APIKEY_ID_',
          description: 'environment variables <prefix><n> hold ids',
        }),
        encoding: EncodingField,
      },
      { description: 'ids and keys from environment variables (the default provider)' },
    ),
  ),
  fileProvider: Type.Optional(fileProviderSpec()),
  subjectHeader: SubjectHeaderField,
});
export type IDKeyAuthnMiddlewareSpec = Static<typeof IDKeyAuthnMiddlewareSpec>;

function storedKeys(spec: IDKeyAuthnMiddlewareSpec, fail: Fail): StoredIDKey[] {
  return orFail(fail, () => {
    const table = spec.fileProvider
      ? readCredentialFiles(spec.fileProvider.paths, 'pair', spec.fileProvider.encoding, [
          'fileProvider',
          'paths',
        ])
      : envPairs(
          process.env,
          spec.envProvider?.idPrefix ?? 'GATEWAY_APIKEY_ID_',
          spec.envProvider?.keyPrefix ?? 'GATEWAY_APIKEY_KEY_',
          spec.envProvider?.encoding ?? 'EncodingTypeUnknown',
          ['envProvider'],
        );
    const plain = decryptAll(table, spec.commonKeyCryptType, spec.cryptSecret);
    return [...plain.values()].map((c) => ({ id: c.name, secret: c.secret, attrs: c.attrs }));
  });
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'IDKeyAuthnMiddleware',
  summary:
    'API id and key authentication (403 when missing or wrong) against pairs from environment variables or files, keys stored plain, hashed, HMAC-hashed or AES-encrypted.',
  spec: IDKeyAuthnMiddlewareSpec,
  roles: ['Middleware', 'AuthenticationHandler'],
  mutate(manifest) {
    const spec = manifest.spec;
    if (spec.envProvider === undefined && spec.fileProvider === undefined)
      spec.envProvider = {
        keyPrefix: 'GATEWAY_APIKEY_KEY_',
        idPrefix: 'GATEWAY_APIKEY_ID_',
        encoding: 'EncodingTypeUnknown',
      };
  },
  validate(spec) {
    return [...commonProblems(spec), ...keyTransformProblems(spec)];
  },
  preflight(spec) {
    return failureOf((fail) => storedKeys(spec, fail));
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const transform = keyTransformOf(ctx, spec);
    const keys = storedKeys(spec, ctx.fail);
    if (keys.length === 0)
      ctx.logger.warn(
        `IDKeyAuthnMiddleware ${manifest.metadata.name} has no keys, so it refuses every request`,
        {
          fix: spec.fileProvider
            ? 'add id:key lines to the files'
            : 'set GATEWAY_APIKEY_ID_1 and GATEWAY_APIKEY_KEY_1, or use fileProvider',
        },
      );
    return new IDKeyAuthnMiddleware({
      keys,
      idHeader: spec.idHeaderName,
      keyHeader: spec.keyHeaderName,
      transform,
      claimsKey: spec.claimsKey,
      forwarding: {
        subjectHeader: spec.subjectHeader,
        remove: spec.keepCredentials ? [] : [spec.idHeaderName, spec.keyHeaderName],
      },
      errorHandler: await authnErrorHandler(ctx, manifest),
    });
  },
});
