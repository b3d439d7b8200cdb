/**
 * app/v1 DigestAuthnMiddleware (AILERON's fields and defaults, aileron-app.md §1.4): HTTP Digest authentication
 * (RFC 7616, qop=auth) against users from environment variables (default) or files, with nonces that expire and
 * cannot be replayed. See middleware.ts and docs/reference/app/digestauthnmiddleware.md.
 */
import { defineResource, type Fail, failureOf } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import {
  authnErrorHandler,
  ClaimsKeyField,
  CryptSecretField,
  CryptTypeField,
  commonProblems,
  ErrorHandlerField,
  fileProviderSpec,
  KeepCredentialsField,
  LoggerField,
  loadUsers,
  PasswordCryptSpec,
  SubjectHeaderField,
  userEnvProvider,
} from '../spec.ts';
import { type DigestAlgorithm, DigestAuthnMiddleware, type DigestUser, ha1 } from './middleware.ts';
import { NonceBook } from './nonces.ts';

export const DigestAuthnMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  keepCredentials: KeepCredentialsField,
  passwordCrypt: Type.Optional(PasswordCryptSpec),
  commonKeyCryptType: CryptTypeField,
  cryptSecret: CryptSecretField,
  realm: Type.String({ default: '', description: 'realm of the challenge; part of every digest' }),
  algorithm: Type.String({
    default: 'MD5',
    description: 'MD5, SHA-256 or SHA-512-256 (any case)',
  }),
  envProvider: Type.Optional(userEnvProvider('DIGEST')),
  fileProvider: Type.Optional(fileProviderSpec()),
  subjectHeader: SubjectHeaderField,
  nonceTTL: Type.Integer({
    default: 300,
    minimum: 1,
    maximum: 86_400,
    description:
      'seconds a nonce is accepted; older ones get a new challenge with stale=true (not in AILERON)',
  }),
  maxNonces: Type.Integer({
    default: 100_000,
    minimum: 1,
    maximum: 10_000_000,
    description:
      'nonces whose counts are remembered against replay; beyond, the least recently used are stale',
  }),
});
export type DigestAuthnMiddlewareSpec = Static<typeof DigestAuthnMiddlewareSpec>;

const Algorithms = ['MD5', 'SHA-256', 'SHA-512-256'];

function users(spec: DigestAuthnMiddlewareSpec, fail: Fail): Map<string, DigestUser> {
  const table = loadUsers(spec, process.env, fail);
  const algorithm = spec.algorithm.toUpperCase() as DigestAlgorithm;
  const out = new Map<string, DigestUser>();
  for (const [name, cred] of table)
    out.set(name, { name, ha1: ha1(algorithm, name, spec.realm, cred.secret), attrs: cred.attrs });
  return out;
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'DigestAuthnMiddleware',
  summary:
    'HTTP Digest authentication (RFC 7616: MD5, SHA-256, SHA-512-256; nonces that expire, no replay) against users from environment variables or files.',
  spec: DigestAuthnMiddlewareSpec,
  roles: ['Middleware', 'AuthenticationHandler'],
  mutate(manifest) {
    const spec = manifest.spec;
    if (spec.envProvider === undefined && spec.fileProvider === undefined)
      spec.envProvider = {
        usernamePrefix: 'GATEWAY_DIGEST_USERNAME_',
        passwordPrefix: 'GATEWAY_DIGEST_PASSWORD_',
        encoding: 'EncodingTypeUnknown',
      };
  },
  validate(spec) {
    const problems = commonProblems(spec);
    if (!Algorithms.includes(spec.algorithm.toUpperCase()))
      problems.push({
        path: ['algorithm'],
        message: `unknown digest algorithm "${spec.algorithm}"`,
        expected: Algorithms.join(', '),
        found: JSON.stringify(spec.algorithm),
      });
    return problems;
  },
  preflight(spec) {
    return failureOf((fail) => users(spec, fail));
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    if (spec.passwordCrypt !== undefined)
      // As AILERON: Digest needs the password itself (HA1 is computed from it), so a hash is of no use.
      ctx.logger.warn(
        'DigestAuthnMiddleware ignores passwordCrypt: Digest needs the stored passwords in clear (or AES-encrypted)',
        {
          fix: 'remove passwordCrypt; protect the file, or encrypt the passwords with commonKeyCryptType and cryptSecret',
        },
      );
    const table = users(spec, ctx.fail);
    if (table.size === 0)
      ctx.logger.warn(
        `DigestAuthnMiddleware ${manifest.metadata.name} has no users, so it refuses every request`,
        {
          fix: 'set GATEWAY_DIGEST_USERNAME_1 and GATEWAY_DIGEST_PASSWORD_1, or use fileProvider',
        },
      );
    return new DigestAuthnMiddleware({
      users: table,
      realm: spec.realm,
      algorithm: spec.algorithm.toUpperCase() as DigestAlgorithm,
      nonces: new NonceBook({ ttlMs: spec.nonceTTL * 1000, maxTracked: spec.maxNonces }),
      claimsKey: spec.claimsKey,
      forwarding: {
        subjectHeader: spec.subjectHeader,
        remove: spec.keepCredentials ? [] : ['authorization'],
      },
      errorHandler: await authnErrorHandler(ctx, manifest),
    });
  },
});
