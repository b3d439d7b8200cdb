/**
 * app/v1 KeyAuthnMiddleware (AILERON's fields and defaults, aileron-app.md §1.5): API keys in a request header,
 * checked against keys from environment variables (default) or files, stored as they are, hashed or HMAC'd.
 * See middleware.ts and docs/reference/app/keyauthnmiddleware.md.
 */
import { defineResource, type Fail, failureOf } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import { envKeys, readCredentialFiles } from '../credentials.ts';
import { keyTransformOf, keyTransformProblems } from '../keyhash.ts';
import {
  authnErrorHandler,
  ClaimsKeyField,
  commonProblems,
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
import { KeyAuthnMiddleware, type StoredKey } from './middleware.ts';

export const KeyAuthnMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  keepCredentials: KeepCredentialsField,
  keyHeaderName: Type.String({
    default: 'X-Api-Key',
    pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$",
    description: 'request header that carries the API key',
  }),
  hashAlg: HashAlgField,
  hmacSecret: HMACSecretField,
  envProvider: Type.Optional(
    Obj(
      {
        keyPrefix: Type.String({
          default: 'GATEWAY_APIKEY_',
          description: 'every environment variable whose name starts with it holds a key',
        }),
        encoding: EncodingField,
      },
      { description: 'keys from environment variables (the default provider)' },
    ),
  ),
  fileProvider: Type.Optional(fileProviderSpec()),
  subjectHeader: SubjectHeaderField,
});
export type KeyAuthnMiddlewareSpec = Static<typeof KeyAuthnMiddlewareSpec>;

function storedKeys(spec: KeyAuthnMiddlewareSpec, fail: Fail): StoredKey[] {
  return orFail(fail, () => {
    const table = spec.fileProvider
      ? readCredentialFiles(spec.fileProvider.paths, 'key', spec.fileProvider.encoding, [
          'fileProvider',
          'paths',
        ])
      : envKeys(
          process.env,
          spec.envProvider?.keyPrefix ?? 'GATEWAY_APIKEY_',
          spec.envProvider?.encoding ?? 'EncodingTypeUnknown',
          ['envProvider'],
        );
    return [...table.values()].map((c) => ({ secret: c.secret, attrs: c.attrs }));
  });
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'KeyAuthnMiddleware',
  summary:
    'API key authentication (403 when missing or unknown) against keys from environment variables or files, stored plain, hashed or HMAC-hashed.',
  spec: KeyAuthnMiddlewareSpec,
  roles: ['Middleware', 'AuthenticationHandler'],
  mutate(manifest) {
    const spec = manifest.spec;
    if (spec.envProvider === undefined && spec.fileProvider === undefined)
      spec.envProvider = { keyPrefix: 'GATEWAY_APIKEY_', encoding: 'EncodingTypeUnknown' };
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
        `KeyAuthnMiddleware ${manifest.metadata.name} has no keys, so it refuses every request`,
        {
          fix: spec.fileProvider
            ? 'add keys to the files'
            : 'set GATEWAY_APIKEY_<name>=<key>, or use fileProvider',
        },
      );
    return new KeyAuthnMiddleware({
      keys,
      header: spec.keyHeaderName,
      transform,
      claimsKey: spec.claimsKey,
      forwarding: {
        subjectHeader: spec.subjectHeader,
        remove: spec.keepCredentials ? [] : [spec.keyHeaderName],
      },
      errorHandler: await authnErrorHandler(ctx, manifest),
    });
  },
});
