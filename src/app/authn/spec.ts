/**
 * Schema pieces the authentication kinds share (AILERON's field names and defaults, aileron-app.md §1.2-1.6), and
 * the start-up helpers that turn them into tables: credentials read and decoded, secrets decrypted, passwords
 * compiled. `load*` functions throw CredentialError at a spec field; api.ts files call them from `preflight` (via
 * failureOf) and `create`, so `--validate` and start-up report the same problems.
 */
import {
  CommonKeyCryptType as CommonKeyCryptTypeEnum,
  EncodingType,
  HashAlg as HashAlgEnum,
} from '../../core/common/replacer.ts';
import { type ErrorHandler, ErrorHandlerRole, LoggerRole } from '../../core/roles.ts';
import { errorHandlerFor } from '../../core/services.ts';
import type { CreateContext, Fail, Manifest } from '../../kernel/resource.ts';
import { Obj, RefTo, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { VerifiedCache } from './cache.ts';
import { CredentialError, envPairs, readCredentialFiles, type StoredCredential } from './credentials.ts';
import { type CommonKeyCryptType, decrypter } from './crypt.ts';
import type { Encoding } from './encoding.ts';
import { PBKDF2Digests, passwordCryptBranches } from './passwords.ts';

export const LoggerField = Type.Optional(
  RefTo('Logger', {
    description: 'accepted, as AILERON; nothing is logged per request (no credentials in logs)',
  }),
);
export const ErrorHandlerField = Type.Optional(
  RefTo('ErrorHandler', {
    description: 'writes the 401/403 answers; unset = metadata.errorHandler, else the default',
  }),
);
export const ClaimsKeyField = Type.String({
  default: 'AuthnClaims',
  description: 'key of the claims in locals.claims, for authorization kinds',
});
export const KeepCredentialsField = Type.Boolean({
  default: false,
  description: 'send the credential headers upstream; false = removed from the upstream request',
});
export const SubjectHeaderField = Type.String({
  default: '',
  description:
    'upstream request header set to the authenticated subject (replacing a client value); "" = none',
});
export const EncodingField = Type.Unsafe<Static<typeof EncodingType>>({
  ...EncodingType,
  default: 'EncodingTypeUnknown',
  description: 'how stored secrets are written (Base16 for hashes); EncodingTypeUnknown = as they are',
});
export const CryptTypeField = Type.Unsafe<Static<typeof CommonKeyCryptTypeEnum>>({
  ...CommonKeyCryptTypeEnum,
  default: 'CommonKeyCryptTypeUnknown',
  description: 'AES mode the stored secrets are encrypted with (needs cryptSecret); unknown = not encrypted',
});
export const CryptSecretField = Type.String({
  default: '',
  description: 'base64 of the 16, 24 or 32-byte AES key of commonKeyCryptType; "" = not encrypted',
});
export const HashAlgField = Type.Unsafe<Static<typeof HashAlgEnum>>({
  ...HashAlgEnum,
  default: 'HashAlgUnknown',
  description:
    'hash of the presented key compared with the stored one; HashAlgUnknown = keys stored as they are',
});
export const HMACSecretField = Type.String({
  default: '',
  description: 'base64 HMAC key: stored keys are HMAC-hashAlg of the key; "" = no HMAC',
});

const Int = (def: number, description: string, max = 2 ** 31 - 1) =>
  Type.Integer({ default: def, minimum: 1, maximum: max, description });
const Argon2 = (time: number, memory: number, what: string) =>
  Obj(
    {
      saltLen: Int(32, 'bytes of salt in front of each stored key', 1024),
      time: Int(time, 'passes'),
      memory: Int(memory, 'memory in KiB'),
      threads: Int(4, 'parallelism', 255),
      keyLen: Int(32, 'bytes of the derived key', 1024),
    },
    { description: `${what}: stored value = salt ‖ key` },
  );

export const PasswordCryptSpec = Obj(
  {
    bcrypt: Type.Optional(
      Obj(
        { cost: Int(10, 'cost of new hashes (a stored hash carries its own)', 31) },
        { description: 'bcrypt ($2a$...) hashes' },
      ),
    ),
    scrypt: Type.Optional(
      Obj(
        {
          saltLen: Int(32, 'bytes of salt in front of each stored key', 1024),
          n: Int(32768, 'CPU/memory cost N (a power of 2)'),
          r: Int(8, 'block size r'),
          p: Int(1, 'parallelism p'),
          keyLen: Int(32, 'bytes of the derived key', 1024),
        },
        { description: 'scrypt: stored value = salt ‖ key' },
      ),
    ),
    pbkdf2: Type.Optional(
      Obj(
        {
          saltLen: Int(32, 'bytes of salt in front of each stored key', 1024),
          iter: Int(4096, 'iterations'),
          keyLen: Int(32, 'bytes of the derived key', 1024),
          hashAlg: Type.Unsafe<Static<typeof HashAlgEnum>>({
            ...HashAlgEnum,
            default: 'SHA256',
            description: 'HMAC hash of PBKDF2',
          }),
        },
        { description: 'PBKDF2: stored value = salt ‖ key' },
      ),
    ),
    argon2i: Type.Optional(Argon2(3, 32768, 'Argon2i')),
    argon2id: Type.Optional(Argon2(1, 65536, 'Argon2id')),
  },
  { description: 'how stored passwords are hashed (one of them); unset = stored as they are' },
);
export type PasswordCryptSpec = Static<typeof PasswordCryptSpec>;

export const CredentialCacheSpec = Obj(
  {
    maxEntries: Type.Integer({
      default: 1024,
      minimum: 0,
      maximum: 10_000_000,
      description: 'users and passwords remembered as verified; 0 = verify every request in full',
    }),
    ttl: Type.Integer({
      default: 60,
      minimum: 0,
      maximum: 86_400,
      description: 'seconds a verification is reused; 0 = not reused',
    }),
  },
  {
    description: 'recently verified passwords, so passwordCrypt runs once per ttl per user (not in AILERON)',
  },
);

export function fileProviderSpec() {
  return Obj(
    {
      paths: Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description: 'credential files (or folders of them), relative to the working directory',
      }),
      encoding: EncodingField,
    },
    { description: 'credentials from files, one per line' },
  );
}

/** Problems a schema cannot express: one passwordCrypt branch, cryptSecret with its type, one provider. */
export function commonProblems(spec: {
  passwordCrypt?: PasswordCryptSpec | undefined;
  cryptSecret?: string;
  commonKeyCryptType?: CommonKeyCryptType;
  envProvider?: unknown;
  fileProvider?: unknown;
  hashAlg?: string;
  hmacSecret?: string;
}): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (spec.passwordCrypt !== undefined) {
    const set = passwordCryptBranches(spec.passwordCrypt);
    if (set.length !== 1)
      problems.push({
        path: ['passwordCrypt'],
        message:
          set.length === 0
            ? 'passwordCrypt names no algorithm'
            : `passwordCrypt has one algorithm, found ${set.join(', ')}`,
        expected: 'one of bcrypt, scrypt, pbkdf2, argon2i, argon2id',
        hint: 'e.g. passwordCrypt: {bcrypt: {}}',
      });
    const alg = spec.passwordCrypt.pbkdf2?.hashAlg;
    if (alg !== undefined && PBKDF2Digests[alg] === undefined)
      problems.push({
        path: ['passwordCrypt', 'pbkdf2', 'hashAlg'],
        message: `PBKDF2 cannot use ${alg}`,
        expected:
          'one of SHA1, SHA224, SHA256, SHA384, SHA512, SHA512_224, SHA512_256, SHA3_224 ... SHA3_512',
      });
  }
  if (spec.cryptSecret !== undefined && spec.commonKeyCryptType !== undefined && spec.cryptSecret !== '') {
    const d = decrypter(spec.commonKeyCryptType, spec.cryptSecret);
    if ('problem' in d) problems.push({ path: [d.field], message: d.problem, hint: d.hint });
  }
  if (spec.envProvider !== undefined && spec.fileProvider !== undefined)
    problems.push({
      path: ['fileProvider'],
      message: 'envProvider and fileProvider are both set; a middleware has one provider',
      hint: 'remove one of them',
    });
  return problems;
}

/** Decrypts every stored secret at start-up (when cryptSecret is set); a value that does not decrypt fails here. */
export function decryptAll(
  table: Map<string, StoredCredential>,
  type: CommonKeyCryptType,
  secret: string,
): Map<string, StoredCredential> {
  if (secret === '') return table;
  const d = decrypter(type, secret);
  if ('problem' in d) throw new CredentialError([d.field], d.problem, d.hint);
  const out = new Map<string, StoredCredential>();
  for (const [name, cred] of table) {
    let plain: Buffer;
    try {
      plain = d.decrypt(cred.secret);
    } catch {
      throw new CredentialError(
        ['cryptSecret'],
        `${cred.source}: the secret does not decrypt with ${type} and cryptSecret`,
        'check commonKeyCryptType, cryptSecret and the stored value',
      );
    }
    out.set(name, { ...cred, secret: plain });
  }
  return out;
}

/** Runs a start-up step written against CredentialError with ctx.fail (create) semantics. */
export function orFail<T>(fail: CreateContext['fail'], step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof CredentialError)
      fail(['spec', ...err.field], err.message, err.hint ? { hint: err.hint } : {});
    throw err;
  }
}

/** The error handler of an authentication kind: spec.errorHandler, else metadata.errorHandler, else the default. */
export async function authnErrorHandler(
  ctx: CreateContext,
  manifest: Manifest<{
    errorHandler?: import('../../kernel/schema.ts').Reference | undefined;
    logger?: import('../../kernel/schema.ts').Reference | undefined;
  }>,
): Promise<ErrorHandler> {
  // The logger is resolved so that a wrong reference is reported, as AILERON does; it logs nothing per request.
  if (manifest.spec.logger) await ctx.get(manifest.spec.logger, LoggerRole, ['spec', 'logger']);
  return manifest.spec.errorHandler
    ? ctx.get(manifest.spec.errorHandler, ErrorHandlerRole, ['spec', 'errorHandler'])
    : errorHandlerFor(ctx, manifest);
}

export function verifiedCache(spec: Static<typeof CredentialCacheSpec>): VerifiedCache | undefined {
  if (spec.maxEntries === 0 || spec.ttl === 0) return undefined;
  return new VerifiedCache({ maxEntries: spec.maxEntries, ttlMs: spec.ttl * 1000 });
}

/** The env provider of Basic and Digest: users and passwords paired by number. */
export function userEnvProvider(method: 'BASIC' | 'DIGEST') {
  return Obj(
    {
      usernamePrefix: Type.String({
        default: `GATEWAY_${method}_USERNAME_`,
        description: 'environment variables <prefix><n> hold user names',
      }),
      passwordPrefix: Type.String({
        default: `GATEWAY_${method}_PASSWORD_`,
        description: 'environment variables <prefix><n> hold the password of user n',
      }),
      encoding: EncodingField,
    },
    { description: 'users from environment variables (the default provider)' },
  );
}

interface UserSourceSpec {
  envProvider?: { usernamePrefix: string; passwordPrefix: string; encoding: Encoding } | undefined;
  fileProvider?: { paths: string[]; encoding: Encoding } | undefined;
  commonKeyCryptType: CommonKeyCryptType;
  cryptSecret: string;
}

/** Reads, decodes and decrypts the users of a Basic or Digest spec (env provider when no file provider is set). */
export function loadUsers(
  spec: UserSourceSpec,
  env: NodeJS.ProcessEnv,
  fail: Fail,
): Map<string, StoredCredential> {
  return orFail(fail, () => {
    const table = spec.fileProvider
      ? readCredentialFiles(spec.fileProvider.paths, 'pair', spec.fileProvider.encoding, [
          'fileProvider',
          'paths',
        ])
      : envPairs(
          env,
          spec.envProvider?.usernamePrefix ?? '',
          spec.envProvider?.passwordPrefix ?? '',
          spec.envProvider?.encoding ?? 'EncodingTypeUnknown',
          ['envProvider'],
        );
    return decryptAll(table, spec.commonKeyCryptType, spec.cryptSecret);
  });
}
