/**
 * app/v1 CORSMiddleware: Cross-Origin Resource Sharing answered by the gateway (AILERON's fields and defaults,
 * aileron-app.md §3.3; its defects fixed, see middleware.ts and docs/reference/app/corsmiddleware.md).
 */
import { PatternError } from '../../../core/common/match.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import {
  Enum,
  HTTPMethod,
  methodList,
  Obj,
  type SchemaProblem,
  type Static,
  Type,
} from '../../../kernel/schema.ts';
import { isHeaderName } from './headers.ts';
import { CORSMiddleware } from './middleware.ts';
import { compileOriginPattern, OriginMatcher, readOriginEntry } from './origin.ts';

/** AILERON's enums, by proto name (the first is the zero value: header not sent), and the header value of each. */
const EmbedderPolicies = {
  EmbedderPolicy_Unknown: '',
  EmbedderUnsafeNone: 'unsafe-none',
  EmbedderRequireCorp: 'require-corp',
  EmbedderCredentialless: 'credentialless',
} as const;
const OpenerPolicies = {
  OpenerPolicy_Unknown: '',
  OpenerUnsafeNone: 'unsafe-none',
  OpenerSameOriginAllowPopups: 'same-origin-allow-popups',
  OpenerSameOrigin: 'same-origin',
} as const;
const ResourcePolicies = {
  ResourcePolicy_Unknown: '',
  ResourceSameSite: 'same-site',
  ResourceSameOrigin: 'same-origin',
  ResourceCrossOrigin: 'cross-origin',
} as const;

function names<T extends object>(table: T): (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[];
}

const HeaderNames = (description: string, defaults: string[]) =>
  Type.Array(Type.String(), { default: defaults, description });

export const CORSPolicySpec = Obj(
  {
    allowedOrigins: Type.Array(Type.String(), {
      default: ['*'],
      description:
        'origins allowed: "*" (any), an origin (https://app.example.com), https://*.example.com (its subdomains) or "null"; empty = only allowedOriginPatterns',
    }),
    allowedOriginPatterns: Type.Array(Type.String(), {
      default: [],
      description:
        'regular expressions (RE2 syntax) an allowed origin matches as a whole, e.g. https://pr-[0-9]+\\.preview\\.example\\.com (not in AILERON)',
    }),
    allowedMethods: Type.Array(HTTPMethod, {
      uniqueItems: true,
      default: ['POST', 'GET', 'OPTIONS'],
      description:
        'methods cross-origin requests may use (others get 403); sent sorted in Access-Control-Allow-Methods',
    }),
    allowedHeaders: HeaderNames(
      'request headers cross-origin requests may send (Access-Control-Allow-Headers); "*" allows those a preflight asks for; empty = none',
      ['Content-Type', 'X-Requested-With'],
    ),
    exposedHeaders: HeaderNames(
      'response headers the page may read (Access-Control-Expose-Headers); empty = only the safelisted ones',
      [],
    ),
    allowCredentials: Type.Boolean({
      default: false,
      description:
        'let pages send cookies and Authorization (Access-Control-Allow-Credentials: true), for named origins only, never with "*"',
    }),
    maxAge: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2_147_483_647,
        description:
          'seconds browsers may cache a preflight answer (Access-Control-Max-Age; 0 = not at all); unset = header not sent (browsers cache 5 s)',
      }),
    ),
    corsEmbedderPolicy: Enum(names(EmbedderPolicies), {
      default: 'EmbedderPolicy_Unknown',
      description: 'the Cross-Origin-Embedder-Policy header; EmbedderPolicy_Unknown = not sent',
    }),
    corsOpenerPolicy: Enum(names(OpenerPolicies), {
      default: 'OpenerPolicy_Unknown',
      description: 'the Cross-Origin-Opener-Policy header; OpenerPolicy_Unknown = not sent',
    }),
    corsResourcePolicy: Enum(names(ResourcePolicies), {
      default: 'ResourcePolicy_Unknown',
      description: 'the Cross-Origin-Resource-Policy header; ResourcePolicy_Unknown = not sent',
    }),
    allowPrivateNetwork: Type.Boolean({
      default: false,
      description:
        'answer Access-Control-Request-Private-Network preflights with Access-Control-Allow-Private-Network: true',
    }),
    disableWildCardOrigin: Type.Boolean({
      default: false,
      description:
        'when "*" allows an origin, answer with that origin instead of "*" (any site may then use credentials if allowed)',
    }),
  },
  { default: {}, description: 'the CORS policy applied to every request' },
);

export const CORSMiddlewareSpec = Obj({ corsPolicy: CORSPolicySpec });
export type CORSMiddlewareSpec = Static<typeof CORSMiddlewareSpec>;

/** A problem for each entry of `list` that `read` refuses, at its index. */
function entryProblems(
  list: readonly string[],
  field: string,
  read: (entry: string) => unknown,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  list.forEach((entry, i) => {
    try {
      read(entry);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push({ path: ['corsPolicy', field, i], message: err.message, hint: err.hint });
    }
  });
  return problems;
}

function headerName(entry: string): void {
  // "" is AILERON's way of saying "none" (an empty list means the default there); "*" is the wildcard.
  if (entry === '' || entry === '*' || isHeaderName(entry)) return;
  throw new PatternError(
    `${JSON.stringify(entry)} is not a header name`,
    "write one header name per entry, e.g. X-Request-Id (letters, digits and !#$%&'*+-.^_`|~)",
  );
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'CORSMiddleware',
  summary:
    'Cross-origin resource sharing: answers preflights, refuses disallowed origins and methods with 403, and adds the Access-Control-* headers browsers need; requests without Origin pass.',
  spec: CORSMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const p = spec.corsPolicy;
    return [
      ...entryProblems(p.allowedOrigins, 'allowedOrigins', readOriginEntry),
      ...entryProblems(p.allowedOriginPatterns, 'allowedOriginPatterns', compileOriginPattern),
      ...entryProblems(p.allowedHeaders, 'allowedHeaders', headerName),
      ...entryProblems(p.exposedHeaders, 'exposedHeaders', headerName),
    ];
  },
  create(ctx, manifest) {
    const p = manifest.spec.corsPolicy;
    const warn = (field: string, message: string, fix: string) => {
      const at = ctx.position(['spec', 'corsPolicy', field]) ?? ctx.position(['spec']);
      ctx.logger.warn(`${at ? `${formatPosition(at)}: ` : ''}${message}`, { fix });
    };
    const star = p.allowedOrigins.includes('*');
    if (p.allowCredentials && star && !p.disableWildCardOrigin) {
      warn(
        'allowCredentials',
        'allowCredentials applies to the named origins only: origins allowed by "*" are answered "*", without credentials',
        'list the origins that may send credentials in allowedOrigins',
      );
    }
    if (p.allowCredentials && star && p.disableWildCardOrigin) {
      warn(
        'disableWildCardOrigin',
        'allowCredentials with "*" and disableWildCardOrigin lets any web site send requests with its visitors\' cookies and read the answers',
        'list the origins that may send credentials in allowedOrigins instead of "*"',
      );
    }
    if (p.allowedOrigins.length === 0 && p.allowedOriginPatterns.length === 0) {
      warn(
        'allowedOrigins',
        'no origin is allowed: every cross-origin request is refused (AILERON reads an empty list as ["*"])',
        'list origins, or remove the field for the default ["*"]',
      );
    }
    return new CORSMiddleware({
      origins: new OriginMatcher({
        allowedOrigins: p.allowedOrigins,
        allowedOriginPatterns: p.allowedOriginPatterns,
        disableWildCardOrigin: p.disableWildCardOrigin,
      }),
      allowedMethods: methodList(p.allowedMethods),
      allowedHeaders: p.allowedHeaders,
      exposedHeaders: p.exposedHeaders,
      allowCredentials: p.allowCredentials,
      maxAge: p.maxAge,
      embedderPolicy: EmbedderPolicies[p.corsEmbedderPolicy],
      openerPolicy: OpenerPolicies[p.corsOpenerPolicy],
      resourcePolicy: ResourcePolicies[p.corsResourcePolicy],
      allowPrivateNetwork: p.allowPrivateNetwork,
      // As AILERON's middleware do: the error handler named by metadata.errorHandler, else the default.
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
