/**
 * app/v1 HeaderPolicyMiddleware: AILERON's header policies for requests (sent upstream) and responses, its MIME
 * allow-list and body length limit (aileron-app.md §3.5), plus a request header size limit and a security-header
 * preset. See middleware.ts, policy.ts and docs/reference/app/headerpolicymiddleware.md.
 */
import { HeaderNamePattern, isHeaderName, isHeaderValue } from '../../../core/common/headernames.ts';
import { compileReplacer, ReplacerSpec, replacerProblems } from '../../../core/common/replacer.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Enum, Obj, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { HeaderPolicyMiddleware, mediaType } from './middleware.ts';
import {
  type PolicySpec,
  RequestPolicy,
  RequestPolicyRefused,
  ResponsePolicy,
  SecurityPreset,
} from './policy.ts';

const HeaderName = Type.String({ pattern: HeaderNamePattern });

const HeaderRewriteSpec = Obj({
  name: Type.String({ pattern: HeaderNamePattern, description: 'the header whose values are rewritten' }),
  replacer: ReplacerSpec,
});

const HeaderPolicySpec = (side: string) =>
  Obj(
    {
      allows: Type.Array(HeaderName, {
        default: [],
        description: `the only ${side} headers kept (names, any case); empty = all are kept`,
      }),
      removes: Type.Array(HeaderName, { default: [], description: `${side} headers removed` }),
      add: Type.Record(Type.String(), Type.String(), {
        default: {},
        description: `${side} headers added, keeping the values already there (name: value)`,
      }),
      set: Type.Record(Type.String(), Type.String(), {
        default: {},
        description: `${side} headers set, replacing the values already there (name: value)`,
      }),
      rewrites: Type.Array(HeaderRewriteSpec, {
        default: [],
        description: `each value of the named ${side} header passed through the replacer, after allows, removes, add and set`,
      }),
    },
    { description: `policy for the ${side} headers: allows, then removes, add, set, rewrites` },
  );

const SecurityHeadersSpec = Obj(
  {
    strictTransportSecurity: Type.String({
      default: 'max-age=31536000; includeSubDomains',
      description:
        'Strict-Transport-Security, sent only to clients that came over TLS (directly or through a trusted proxy); "" = not sent',
    }),
    contentTypeOptions: Type.String({
      default: 'nosniff',
      description: 'X-Content-Type-Options; "" = not sent',
    }),
    referrerPolicy: Type.String({
      default: 'strict-origin-when-cross-origin',
      description: 'Referrer-Policy; "" = not sent',
    }),
    contentSecurityPolicy: Type.String({
      default: '',
      description: 'Content-Security-Policy (frame-ancestors is added from frameOptions); "" = none but that',
    }),
    frameOptions: Enum(['DENY', 'SAMEORIGIN', 'OFF'], {
      default: 'DENY',
      description:
        "X-Frame-Options, and the matching CSP frame-ancestors ('none' or 'self') unless the policy has one; OFF = neither",
    }),
  },
  {
    description:
      'security headers added to every response that lacks them (absent = none); the response policy runs after',
  },
);

export const HeaderPolicyMiddlewareSpec = Obj({
  allowMIMEs: Type.Array(Type.String(), {
    default: [],
    description:
      'media types a request body may have (parameters ignored), else 415; requests without a body pass; empty = any',
  }),
  maxContentLength: Type.Integer({
    default: 0,
    description:
      'longest request body by Content-Length, else 413; a body of unknown length gets 411; 0 or less = no limit',
  }),
  maxHeaderBytes: Type.Integer({
    default: 0,
    minimum: 0,
    description: 'largest request header section (name, value and 4 bytes per line), else 431; 0 = no limit',
  }),
  requestPolicy: Type.Optional(HeaderPolicySpec('request')),
  responsePolicy: Type.Optional(HeaderPolicySpec('response')),
  securityHeaders: Type.Optional(SecurityHeadersSpec),
});
export type HeaderPolicyMiddlewareSpec = Static<typeof HeaderPolicyMiddlewareSpec>;
type HeaderPolicySpec = Static<ReturnType<typeof HeaderPolicySpec>>;

function policyProblems(p: HeaderPolicySpec, field: 'requestPolicy' | 'responsePolicy'): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const refuse = (path: (string | number)[], name: string) => {
    if (field === 'requestPolicy' && RequestPolicyRefused.has(name.toLowerCase()))
      problems.push({
        path,
        message: `"${name}" is written by the proxy itself (it frames the request or the connection)`,
        hint: 'remove this entry',
      });
  };
  p.removes.forEach((name, i) => {
    refuse([field, 'removes', i], name);
  });
  for (const map of ['add', 'set'] as const) {
    for (const [name, value] of Object.entries(p[map])) {
      const path = [field, map, name];
      if (!isHeaderName(name))
        problems.push({
          path,
          message: `"${name}" is not a header name`,
          atKey: true,
          hint: 'e.g. X-Frame-Options',
        });
      else refuse(path, name);
      if (!isHeaderValue(value))
        problems.push({ path, message: 'a header value cannot contain control characters (CR, LF, NUL...)' });
    }
  }
  p.rewrites.forEach((r, i) => {
    refuse([field, 'rewrites', i, 'name'], r.name);
    // replacerProblems numbers its list: this is a list of one, whose index is dropped from the paths.
    for (const problem of replacerProblems([r.replacer], [field, 'rewrites', i, 'replacer']))
      problems.push({ ...problem, path: [...problem.path.slice(0, 4), ...problem.path.slice(5)] });
  });
  return problems;
}

function compilePolicy(p: HeaderPolicySpec): PolicySpec {
  const lower = (names: readonly string[]) => [...new Set(names.map((n) => n.toLowerCase()))];
  const pairs = (map: Record<string, string>) =>
    Object.entries(map).map(([name, value]) => [name.toLowerCase(), value] as const);
  return {
    allows: lower(p.allows),
    removes: lower(p.removes),
    add: pairs(p.add),
    set: pairs(p.set),
    rewrites: p.rewrites.map((r) => [r.name.toLowerCase(), compileReplacer(r.replacer)] as const),
  };
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'HeaderPolicyMiddleware',
  summary:
    'Allows, removes, adds, sets and rewrites request headers (sent upstream) and response headers; MIME allow-list, body length and header size limits; a security-header preset.',
  spec: HeaderPolicyMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    spec.allowMIMEs.forEach((m, i) => {
      if (mediaType(m) === '' || m.includes(';'))
        problems.push({
          path: ['allowMIMEs', i],
          message: `"${m}" is not a media type`,
          expected: 'type/subtype without parameters',
          hint: 'e.g. application/json',
        });
    });
    if (spec.requestPolicy) problems.push(...policyProblems(spec.requestPolicy, 'requestPolicy'));
    if (spec.responsePolicy) problems.push(...policyProblems(spec.responsePolicy, 'responsePolicy'));
    const s = spec.securityHeaders;
    if (s) {
      for (const key of [
        'strictTransportSecurity',
        'contentTypeOptions',
        'referrerPolicy',
        'contentSecurityPolicy',
      ] as const) {
        if (!isHeaderValue(s[key]))
          problems.push({
            path: ['securityHeaders', key],
            message: 'a header value cannot contain control characters (CR, LF, NUL...)',
          });
      }
    }
    return problems;
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    return new HeaderPolicyMiddleware({
      allowMIMEs: new Set(spec.allowMIMEs.map((m) => m.trim().toLowerCase())),
      maxContentLength: spec.maxContentLength,
      maxHeaderBytes: spec.maxHeaderBytes,
      requestPolicy: spec.requestPolicy && new RequestPolicy(compilePolicy(spec.requestPolicy)),
      responsePolicy: spec.responsePolicy && new ResponsePolicy(compilePolicy(spec.responsePolicy)),
      securityHeaders: spec.securityHeaders && new SecurityPreset(spec.securityHeaders),
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
