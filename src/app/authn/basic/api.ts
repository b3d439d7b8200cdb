/**
 * app/v1 BasicAuthnMiddleware (AILERON's fields and defaults, aileron-app.md §1.3): HTTP Basic authentication
 * against users from environment variables (default) or files, with hashed (passwordCrypt) and/or AES-encrypted
 * (commonKeyCryptType, cryptSecret) passwords. See middleware.ts and docs/reference/app/basicauthnmiddleware.md.
 */
import { defineResource, type Fail, failureOf } from '../../../kernel/resource.ts';
import { Obj, type Static, Type } from '../../../kernel/schema.ts';
import { passwordCompiler } from '../passwords.ts';
import {
  authnErrorHandler,
  ClaimsKeyField,
  CredentialCacheSpec,
  CryptSecretField,
  CryptTypeField,
  commonProblems,
  ErrorHandlerField,
  fileProviderSpec,
  KeepCredentialsField,
  LoggerField,
  loadUsers,
  orFail,
  PasswordCryptSpec,
  SubjectHeaderField,
  userEnvProvider,
  verifiedCache,
} from '../spec.ts';
import { UserTable } from '../users.ts';
import { BasicAuthnMiddleware } from './middleware.ts';

export const BasicAuthnMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  keepCredentials: KeepCredentialsField,
  passwordCrypt: Type.Optional(PasswordCryptSpec),
  commonKeyCryptType: CryptTypeField,
  cryptSecret: CryptSecretField,
  realm: Type.String({ default: '', description: 'realm of the challenge (WWW-Authenticate)' }),
  preferError: Type.Boolean({
    default: false,
    description: 'wrong credentials get 401 E3056 from the error handler without a new challenge',
  }),
  envProvider: Type.Optional(userEnvProvider('BASIC')),
  fileProvider: Type.Optional(fileProviderSpec()),
  subjectHeader: SubjectHeaderField,
  credentialCache: Type.Optional(CredentialCacheSpec),
});
export type BasicAuthnMiddlewareSpec = Static<typeof BasicAuthnMiddlewareSpec>;

function userTable(spec: BasicAuthnMiddlewareSpec, fail: Fail): UserTable {
  const table = loadUsers(spec, process.env, fail);
  return orFail(
    fail,
    () =>
      new UserTable(
        table,
        passwordCompiler(spec.passwordCrypt),
        verifiedCache(spec.credentialCache ?? { maxEntries: 1024, ttl: 60 }),
        spec.passwordCrypt === undefined,
      ),
  );
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'BasicAuthnMiddleware',
  summary:
    'HTTP Basic authentication (401 with a challenge) against users from environment variables or files, passwords plain, hashed (bcrypt, scrypt, PBKDF2, Argon2) or AES-encrypted.',
  spec: BasicAuthnMiddlewareSpec,
  roles: ['Middleware', 'AuthenticationHandler'],
  mutate(manifest) {
    // AILERON's default provider: the environment, when no provider is given.
    const spec = manifest.spec;
    if (spec.envProvider === undefined && spec.fileProvider === undefined)
      spec.envProvider = {
        usernamePrefix: 'GATEWAY_BASIC_USERNAME_',
        passwordPrefix: 'GATEWAY_BASIC_PASSWORD_',
        encoding: 'EncodingTypeUnknown',
      };
  },
  validate(spec) {
    return commonProblems(spec);
  },
  preflight(spec) {
    return failureOf((fail) => userTable(spec, fail));
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const users = userTable(spec, ctx.fail);
    if (users.size === 0)
      ctx.logger.warn(
        `BasicAuthnMiddleware ${manifest.metadata.name} has no users, so it refuses every request`,
        {
          fix: spec.fileProvider
            ? 'add user:password lines to the files'
            : 'set GATEWAY_BASIC_USERNAME_1 and GATEWAY_BASIC_PASSWORD_1, or use fileProvider',
        },
      );
    return new BasicAuthnMiddleware({
      users,
      realm: spec.realm,
      preferError: spec.preferError,
      claimsKey: spec.claimsKey,
      forwarding: {
        subjectHeader: spec.subjectHeader,
        remove: spec.keepCredentials ? [] : ['authorization'],
      },
      errorHandler: await authnErrorHandler(ctx, manifest),
    });
  },
});
