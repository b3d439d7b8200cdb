/**
 * app/v1 CSRFMiddleware: AILERON's CSRF protection (aileron-app.md §3.4) with its field names and defaults: a
 * middleware that refuses unsafe requests without a valid token (custom request header, double-submit cookie, or
 * synchronizer token kept in the session) and the token-issuing endpoint. Fixed on purpose: `skipMethods` and
 * `seedSize` are honoured, the secret is given or generated at start with a warning (never derived from the host
 * name), tokens are compared in constant time. See middleware.ts and docs/reference/app/csrfmiddleware.md.
 */
import { CookieSpec, CookieWriter, DefaultCookie } from '../../../core/common/cookiespec.ts';
import { goRegExp, PatternError } from '../../../core/common/match.ts';
import { generatedSecret } from '../../../core/common/runsecret.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { type CreateContext, defineResource } from '../../../kernel/resource.ts';
import {
  Enum,
  HTTPMethod,
  MethodList,
  methodList,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { CSRFMiddleware } from './middleware.ts';
import {
  CustomRequestHeader,
  DoubleSubmitCookie,
  type Strategy,
  SynchronizerToken,
  type TokenSource,
} from './strategies.ts';
import { CSRFTokens, HmacAlgorithms, isHmacAlgorithm } from './token.ts';

export const DefaultPatterns = ['/token'];
export const SafeMethods = ['GET', 'HEAD', 'OPTIONS', 'TRACE'];

/** AILERON's kernel.HashAlg enum, names and numbers; the ones Node's HMAC lacks are refused in validate. */
export const HashAlg = [
  'HashAlgUnknown',
  'SHA1',
  'SHA224',
  'SHA256',
  'SHA384',
  'SHA512',
  'SHA512_224',
  'SHA512_256',
  'SHA3_224',
  'SHA3_256',
  'SHA3_384',
  'SHA3_512',
  'SHAKE128',
  'SHAKE256',
  'BLAKE2s_256',
  'BLAKE2b_256',
  'BLAKE2b_384',
  'BLAKE2b_512',
] as const;

const TokenSources = ['Header', 'Form', 'JSON'] as const;
const HeaderName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]*$";
/** A header name, form field name, or JSON dot path (`a.b.token`). */
const SourceKey = '^[0-9A-Za-z_-]+(\\.[0-9A-Za-z_-]+)*$';
const OneOf = ['customRequestHeader', 'doubleSubmitCookies', 'synchronizerToken'] as const;
/** Headers the proxy owns (context.ts refuses to edit them). */
const ProxyOwned = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'host',
]);
/** Headers a foreign page can make a browser send without a CORS preflight: useless as the custom header. */
const SafelistedHeaders = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'range']);

const tokenSource = () =>
  Enum(TokenSources, {
    default: 'Header',
    description: 'where the submitted token is: Header, Form (urlencoded body field) or JSON (body value)',
  });
const sourceKey = () =>
  Type.String({
    default: '__csrfToken',
    pattern: SourceKey,
    description: 'the header name, form field name, or JSON dot path (a.b.token) holding the submitted token',
  });

const CustomRequestHeaderSpec = Obj(
  {
    headerName: Type.String({
      default: 'X-Requested-With',
      pattern: '^[0-9a-zA-Z-_]+$',
      description:
        'the header every checked request must carry (not one a browser may send cross-origin freely)',
    }),
    allowedPattern: Type.String({
      default: '',
      description:
        "RE2 regular expression: a header value it matches is accepted as it is; '' = the value must be a valid token",
    }),
  },
  { description: 'strategy: a custom request header (the default strategy)' },
);

const DoubleSubmitCookiesSpec = Obj(
  {
    cookieName: Type.String({
      default: '__csrfToken',
      pattern: '^[0-9a-zA-Z-_]+$',
      description: 'the cookie the token endpoint sets and checked requests send back',
    }),
    cookie: Type.Optional(CookieSpec),
    tokenSource: tokenSource(),
    sourceKey: sourceKey(),
  },
  { description: 'strategy: the token in a cookie and again in the request, both the same valid token' },
);

const SynchronizerTokenSpec = Obj(
  {
    tokenSource: tokenSource(),
    sourceKey: sourceKey(),
  },
  {
    description:
      'strategy: the token kept in the session (SessionMiddleware must run before) and again in the request',
  },
);

export const CSRFMiddlewareSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [...DefaultPatterns],
    description:
      'path patterns of the token endpoint (this object as a Handler), under the handler entry pattern; empty = ["/token"]',
  }),
  methods: MethodList('methods the token endpoint serves (others get 405); empty = all'),
  skipMethods: Type.Array(HTTPMethod, {
    uniqueItems: true,
    default: [...SafeMethods],
    description: 'methods that pass without a token (default the safe ones); [] = every request is checked',
  }),
  proxyHeaderName: Type.String({
    default: '',
    pattern: HeaderName,
    description:
      "header that carries the verified token to the upstream (a client's header of that name is dropped); '' = none",
  }),
  issueNew: Type.Boolean({
    default: false,
    description: 'the token endpoint always issues a new token, instead of the valid one the client holds',
  }),
  secret: Type.Optional(
    Type.String({
      description:
        'base64 HMAC key of the tokens (at least 32 bytes; openssl rand -base64 64); unset = generated at start, with a warning',
    }),
  ),
  seedSize: Type.Integer({
    default: 20,
    minimum: 5,
    maximum: 1024,
    description: 'random bytes at the start of each token (OWASP: at least 15)',
  }),
  hashAlg: Enum(HashAlg, {
    default: 'SHA256',
    description: 'HMAC hash of the tokens: SHA-1, SHA-2 or SHA-3 (SHAKE and BLAKE2 are refused)',
  }),
  maxBodySize: Type.Integer({
    default: 1_048_576,
    minimum: 0,
    maximum: 67_108_864,
    description:
      'tokenSource Form or JSON: the most body bytes read to find the token (default 1 MiB); larger bodies get 413',
  }),
  customRequestHeader: Type.Optional(CustomRequestHeaderSpec),
  doubleSubmitCookies: Type.Optional(DoubleSubmitCookiesSpec),
  synchronizerToken: Type.Optional(SynchronizerTokenSpec),
});
export type CSRFMiddlewareSpec = Static<typeof CSRFMiddlewareSpec>;

const Base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'CSRFMiddleware',
  summary:
    'Refuses unsafe requests without a valid CSRF token (custom header, double-submit cookie or session synchronizer token) with 403, and issues tokens at /token.',
  spec: CSRFMiddlewareSpec,
  roles: ['Middleware', 'Handler'],
  mutate(manifest) {
    const spec = manifest.spec;
    // As AILERON: an empty list means the default path, never "everything under the entry pattern".
    if (spec.patterns.length === 0) spec.patterns = [...DefaultPatterns];
    // As AILERON: without a strategy, the custom request header with its defaults.
    if (OneOf.every((k) => spec[k] === undefined))
      spec.customRequestHeader = { headerName: 'X-Requested-With', allowedPattern: '' };
  },
  validate(spec) {
    const problems: SchemaProblem[] = [];
    const set = OneOf.filter((k) => spec[k] !== undefined);
    if (set.length > 1) {
      problems.push({
        path: [set[1]!],
        message: `one strategy only, found ${set.join(' and ')}`,
        expected: `exactly one of ${OneOf.join(', ')}`,
        hint: 'keep one; to protect paths differently, use two CSRFMiddleware resources',
      });
    }
    if (!isHmacAlgorithm(spec.hashAlg)) {
      problems.push({
        path: ['hashAlg'],
        message: `${spec.hashAlg} cannot make the tokens' HMAC here`,
        expected: `one of ${Object.keys(HmacAlgorithms).join(', ')}`,
        found: spec.hashAlg,
        hint:
          spec.hashAlg === 'HashAlgUnknown'
            ? 'leave hashAlg out for SHA256'
            : 'SHAKE has no HMAC, and Node.js has no keyed BLAKE2 (what AILERON uses for BLAKE2): use SHA256 or SHA3_256',
      });
    }
    if (spec.secret !== undefined && (spec.secret === '' || !Base64.test(spec.secret))) {
      problems.push({
        path: ['secret'],
        message: spec.secret === '' ? 'the secret is empty' : 'the secret is not base64',
        expected: 'standard base64 with padding, at least 32 bytes once decoded',
        hint: 'make one with: openssl rand -base64 64; or leave secret out for a random one per process',
      });
    }
    const pattern = spec.customRequestHeader?.allowedPattern;
    if (pattern) {
      try {
        goRegExp(pattern);
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        problems.push({
          path: ['customRequestHeader', 'allowedPattern'],
          message: err.message,
          hint: err.hint,
        });
      }
    }
    if (ProxyOwned.has(spec.proxyHeaderName.toLowerCase())) {
      problems.push({
        path: ['proxyHeaderName'],
        message: `"${spec.proxyHeaderName}" is a header the proxy owns`,
        hint: 'choose a name of your own, e.g. X-CSRF-Token',
      });
    }
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const tokens = new CSRFTokens({
      secret: secretOf(ctx, spec.secret),
      seedSize: spec.seedSize,
      // validate() refused the others.
      hashAlg: spec.hashAlg as keyof typeof HmacAlgorithms,
    });
    return new CSRFMiddleware({
      strategy: strategyOf(ctx, spec, tokens),
      tokens,
      skipMethods: methodList(spec.skipMethods),
      proxyHeaderName: spec.proxyHeaderName.toLowerCase(),
      issueNew: spec.issueNew,
      patterns: spec.patterns,
      methods: methodList(spec.methods),
      // AILERON picks this kind's error handler by metadata.errorHandler; unset (or unknown): the default.
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});

function warn(ctx: CreateContext, field: readonly (string | number)[], message: string, fix: string): void {
  const at = ctx.position(['spec', ...field]);
  ctx.logger.warn(`${at ? `${formatPosition(at)}: ` : ''}${message}`, { fix });
}

/**
 * The HMAC key: the configured one, or one generated from this run's random seed (runsecret.ts), never from the
 * host name, with a warning. A reload keeps it and the workers of one `--workers` gateway share it; a restart or
 * another gateway process has another.
 */
function secretOf(ctx: CreateContext, secret: string | undefined): Buffer {
  if (secret === undefined) {
    warn(
      ctx,
      [],
      'CSRFMiddleware has no secret: using a random one made at start. Its tokens stop being valid when the gateway restarts, and other gateway processes (replicas) refuse them',
      'set spec.secret to base64 random bytes, the same on every instance: openssl rand -base64 64',
    );
    return generatedSecret(`csrf/secret ${ctx.id}`, 64);
  }
  const bytes = Buffer.from(secret, 'base64');
  if (bytes.length < 32) {
    warn(
      ctx,
      ['secret'],
      `the CSRF secret is ${bytes.length} bytes long: shorter than 32 bytes, it is easier to guess`,
      'use at least 32 random bytes: openssl rand -base64 64',
    );
  }
  return bytes;
}

function strategyOf(ctx: CreateContext, spec: CSRFMiddlewareSpec, tokens: CSRFTokens): Strategy {
  const source = (s: { tokenSource: string; sourceKey: string }): TokenSource => {
    if (s.tokenSource === 'Form') return { kind: 'Form', field: s.sourceKey, limit: spec.maxBodySize };
    if (s.tokenSource === 'JSON')
      return { kind: 'JSON', path: s.sourceKey.split('.'), limit: spec.maxBodySize };
    return { kind: 'Header', header: s.sourceKey };
  };
  if (spec.doubleSubmitCookies !== undefined) {
    const d = spec.doubleSubmitCookies;
    const cookie = new CookieWriter(d.cookie ?? DefaultCookie);
    return new DoubleSubmitCookie(d.cookieName, cookie, source(d), tokens);
  }
  if (spec.synchronizerToken !== undefined)
    return new SynchronizerToken(source(spec.synchronizerToken), tokens, ctx.id);
  const c = spec.customRequestHeader!;
  if (SafelistedHeaders.has(c.headerName.toLowerCase())) {
    warn(
      ctx,
      ['customRequestHeader', 'headerName'],
      `${c.headerName} is a header a foreign page can make a browser send without a CORS preflight: it does not protect against CSRF`,
      'use a custom name such as X-Requested-With',
    );
  }
  return new CustomRequestHeader(
    c.headerName,
    c.allowedPattern === '' ? undefined : goRegExp(c.allowedPattern),
    tokens,
  );
}
