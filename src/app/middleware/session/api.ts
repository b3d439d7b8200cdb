/**
 * app/v1 SessionMiddleware: AILERON's sessions (aileron-app.md §3.7) with its fields and defaults, in cookies
 * (encrypted and authenticated, split across several cookies when large) or in a server-side KeyValueStorage
 * (RedisClient, MemoryStorage), with AILERON's defects fixed: no 500 for a missing or tampered cookie, ids for
 * server-side sessions, one Set-Cookie per cookie, secure cookie attributes per field, no secrets derived from
 * the hostname, idle and absolute lifetimes. See middleware.ts and docs/reference/app/sessionmiddleware.md.
 */
import { CookieSpec, CookieWriter, DefaultCookie } from '../../../core/common/cookiespec.ts';
import { CommonKeyCryptType, HashAlg } from '../../../core/common/replacer.ts';
import { generatedSecret } from '../../../core/common/runsecret.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, RefTo, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { KeyValueStorageRole } from '../../roles.ts';
import { CookieStore } from './cookiestore.ts';
import { CipherModes, HmacDigests, SecureEncoder } from './encoder.ts';
import { Expiry } from './expiry.ts';
import { KVStore } from './kvstore.ts';
import { SessionMiddleware } from './middleware.ts';
import type { StoreOptions } from './store.ts';

const MaxSeconds = 2_147_483;
const Base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const SecureEncoderSpec = Obj(
  {
    hashAlg: Type.Unsafe<Static<typeof HashAlg>>({
      ...HashAlg,
      default: 'SHA256',
      description: 'hash of the HMAC: SHA256, SHA512, SHA3_256, ...',
    }),
    hmacSecret: Type.String({
      default: '',
      description:
        "base64 HMAC key (64 random bytes: openssl rand -base64 64); '' = cookies: random at start (warned); storage: no HMAC",
    }),
    commonKeyCryptType: Type.Unsafe<Static<typeof CommonKeyCryptType>>({
      ...CommonKeyCryptType,
      default: 'AESGCM',
      description: 'cipher: AESGCM, or AESCBC, AESCFB, AESCTR, AESOFB',
    }),
    cryptSecret: Type.String({
      default: '',
      description:
        "base64 AES key of 16, 24 or 32 bytes (openssl rand -base64 32); '' = cookies: random at start (warned); storage: not encrypted",
    }),
    enableCompression: Type.Boolean({ default: false, description: 'gzip the session before encrypting it' }),
    disableHMAC: Type.Boolean({
      default: false,
      description: 'no HMAC (never for cookies: clients could change them)',
    }),
    disableEncryption: Type.Boolean({
      default: false,
      description: 'no encryption (never for cookies: clients could read them)',
    }),
  },
  { default: {}, description: 'how the session is encoded: encrypted, then authenticated with an HMAC' },
);
export type SecureEncoderSpec = Static<typeof SecureEncoderSpec>;

export const SessionMiddlewareSpec = Obj({
  storage: Type.Optional(
    RefTo('KeyValueStorage', {
      description:
        'keep sessions in this RedisClient or MemoryStorage (the cookie holds an id); unset = in cookies',
    }),
  ),
  prefix: Type.String({
    default: '',
    pattern: '^[0-9a-zA-Z-_:]*$',
    description: 'storage only: the key of a session is prefix + id',
  }),
  cookieName: Type.String({
    default: '_SESSION',
    pattern: '^[0-9a-zA-Z-_]+$',
    description:
      'the cookie (cookie store: <cookieName>0, 1, ...); prefixed __Host- when Secure, Path=/ and no Domain',
  }),
  cookie: Type.Optional(CookieSpec),
  secureEncoder: SecureEncoderSpec,
  tracer: Type.Optional(
    RefTo('Tracer', { description: 'accepted for AILERON compatibility; no spans are made' }),
  ),
  idleTimeout: Type.Integer({
    default: 1800,
    minimum: 0,
    maximum: MaxSeconds,
    description: 'seconds without a request after which a session is over; 0 = no limit',
  }),
  absoluteTimeout: Type.Integer({
    default: 28_800,
    minimum: 0,
    maximum: MaxSeconds,
    description: 'seconds after its start at which a session is over, however used; 0 = no limit',
  }),
});
export type SessionMiddlewareSpec = Static<typeof SessionMiddlewareSpec>;

function secretProblems(spec: SecureEncoderSpec): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const at = (field: string) => ['secureEncoder', field];
  if (spec.hmacSecret !== '' && !Base64.test(spec.hmacSecret))
    problems.push({
      path: at('hmacSecret'),
      message: 'not base64',
      hint: 'e.g. the output of openssl rand -base64 64',
    });
  if (spec.cryptSecret !== '') {
    if (!Base64.test(spec.cryptSecret)) {
      problems.push({
        path: at('cryptSecret'),
        message: 'not base64',
        hint: 'e.g. the output of openssl rand -base64 32',
      });
    } else if (!spec.disableEncryption) {
      const n = Buffer.from(spec.cryptSecret, 'base64').length;
      if (n !== 16 && n !== 24 && n !== 32)
        problems.push({
          path: at('cryptSecret'),
          message: `an AES key is 16, 24 or 32 bytes, found ${n}`,
          hint: 'e.g. the output of openssl rand -base64 32',
        });
    }
  }
  if (!spec.disableHMAC && HmacDigests[spec.hashAlg] === undefined)
    problems.push({
      path: at('hashAlg'),
      message: `no HMAC with ${spec.hashAlg}`,
      expected: Object.keys(HmacDigests).join(', '),
    });
  if (!spec.disableEncryption && CipherModes[spec.commonKeyCryptType] === undefined)
    problems.push({
      path: at('commonKeyCryptType'),
      message: 'a cipher is required',
      expected: Object.keys(CipherModes).join(', '),
    });
  return problems;
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'SessionMiddleware',
  summary:
    'Sessions for browser clients in encrypted, authenticated cookies or in Redis/memory, in the request context for CSRF and authentication; idle and absolute expiry, id rotation.',
  spec: SessionMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    return secretProblems(spec.secureEncoder);
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const enc = spec.secureEncoder;
    const warn = (message: string, fix: string) => ctx.logger.warn(message, { fix });
    const storage = spec.storage
      ? await ctx.get(spec.storage, KeyValueStorageRole, ['spec', 'storage'])
      : undefined;
    if (spec.tracer)
      warn(
        'SessionMiddleware spec.tracer is accepted but no spans are made for session storage',
        'remove spec.tracer',
      );
    const options: StoreOptions = {
      cookieName: spec.cookieName,
      cookie: new CookieWriter(spec.cookie ?? DefaultCookie),
      expiry: new Expiry({ idleMs: spec.idleTimeout * 1000, absoluteMs: spec.absoluteTimeout * 1000 }),
      logger: ctx.logger,
    };
    const secret = (text: string) => Buffer.from(text, 'base64');
    if (storage !== undefined) {
      // Server-side: the client holds only a random id. Encode only with secrets given (generated ones would
      // make the sessions unreadable to the other gateways sharing the storage, and after a restart).
      const hmac =
        !enc.disableHMAC && enc.hmacSecret !== ''
          ? { alg: enc.hashAlg, key: secret(enc.hmacSecret) }
          : undefined;
      const cipher =
        !enc.disableEncryption && enc.cryptSecret !== ''
          ? { alg: enc.commonKeyCryptType, key: secret(enc.cryptSecret) }
          : undefined;
      const encoder =
        hmac || cipher || enc.enableCompression
          ? new SecureEncoder({ hmac, cipher, compress: enc.enableCompression })
          : undefined;
      return new SessionMiddleware(
        new KVStore(options, storage, spec.prefix, encoder),
        errorHandlerFor(ctx, manifest),
      );
    }
    const generated: string[] = [];
    /** The configured key, or one generated for this purpose (and noted for the warning). */
    const keyOf = (text: string, field: string, bytes: number): Buffer => {
      if (text !== '') return secret(text);
      generated.push(field);
      return generatedSecret(`session/${field} ${ctx.id}`, bytes);
    };
    const hmac = enc.disableHMAC
      ? undefined
      : { alg: enc.hashAlg, key: keyOf(enc.hmacSecret, 'hmacSecret', 64) };
    const cipher = enc.disableEncryption
      ? undefined
      : { alg: enc.commonKeyCryptType, key: keyOf(enc.cryptSecret, 'cryptSecret', 32) };
    if (generated.length > 0)
      warn(
        `SessionMiddleware has no secureEncoder ${generated.join(' or ')}: random secrets were generated at start, so session cookies do not survive a restart and are not accepted by other gateway processes`,
        'set secureEncoder.hmacSecret (openssl rand -base64 64) and cryptSecret (openssl rand -base64 32), e.g. from environment variables',
      );
    if (hmac !== undefined && hmac.key.length < 32)
      warn(
        `SessionMiddleware secureEncoder.hmacSecret is ${hmac.key.length} bytes, too short to resist guessing`,
        'use 64 random bytes',
      );
    const encoder = new SecureEncoder({ hmac, cipher, compress: enc.enableCompression });
    if (hmac === undefined && cipher?.alg !== 'AESGCM')
      warn(
        'SessionMiddleware cookies are not authenticated (disableHMAC and no AESGCM): clients can change their session',
        'remove secureEncoder.disableHMAC',
      );
    if (cipher === undefined)
      warn(
        'SessionMiddleware cookies are not encrypted (disableEncryption): clients can read their session',
        'remove secureEncoder.disableEncryption',
      );
    return new SessionMiddleware(new CookieStore(options, encoder), errorHandlerFor(ctx, manifest));
  },
});
