/**
 * app/v1 CasbinAuthzMiddleware (AILERON documents a Casbin middleware it no longer has, aileron-app.md §2.2; this
 * one is ours): authorization with the maintained `casbin` package, a model file and a CSV policy file, RBAC with
 * domains included; the subject comes from the authentication context. See middleware.ts and
 * docs/reference/app/casbinauthzmiddleware.md.
 */

import type { Request } from '../../../core/roles.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource, failureOf } from '../../../kernel/resource.ts';
import { Enum, Obj, type Static, Type } from '../../../kernel/schema.ts';
import { claimsOf } from '../locals.ts';
import { authzServices, ClaimsKeyField, ErrorHandlerField, LoggerField } from '../spec.ts';
import { CasbinFileError, createEnforcer, loadModel } from './enforcer.ts';
import { CasbinAuthzMiddleware, type DomainOf } from './middleware.ts';

const DomainSpec = Obj(
  {
    from: Enum(['Fixed', 'Host', 'Header', 'Claim'], {
      default: 'Fixed',
      description:
        'Fixed: value; Host: the request host without port; Header: the header named value; Claim: the claim at the dotted path value',
    }),
    value: Type.String({
      default: '',
      description: 'the domain (Fixed), header name (Header) or claim path (Claim)',
    }),
  },
  { description: 'the domain of an RBAC-with-domains model (request r = sub, dom, obj, act)' },
);

export const CasbinAuthzMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  model: Type.String({
    default: '',
    description:
      'Casbin model file (.conf), request sub, obj, act or sub, dom, obj, act; "" = built-in RBAC (keyMatch2 paths, method regex)',
  }),
  policy: Type.String({
    default: '',
    description: 'Casbin policy file (CSV: p, … and g, … lines); "" = no policy (every request refused)',
  }),
  domain: Type.Optional(DomainSpec),
  anonymousSubject: Type.String({
    default: '',
    description:
      'subject given to unauthenticated requests (policies can allow it); "" = they are refused (403)',
  }),
});
export type CasbinAuthzMiddlewareSpec = Static<typeof CasbinAuthzMiddlewareSpec>;

function filesOf(spec: CasbinAuthzMiddlewareSpec, fail: (f: (string | number)[], m: string) => never) {
  try {
    return loadModel(spec.model, spec.policy);
  } catch (err) {
    if (err instanceof CasbinFileError) return fail(['spec', err.field], err.message);
    throw err;
  }
}

function domainOf(spec: NonNullable<CasbinAuthzMiddlewareSpec['domain']>, claimsKey: string): DomainOf {
  const value = spec.value;
  switch (spec.from) {
    case 'Fixed':
      return () => value;
    case 'Host':
      return (req) => hostName(req);
    case 'Header': {
      const name = value.toLowerCase();
      return (req) => {
        const v = req.headers[name];
        return typeof v === 'string' ? v : '';
      };
    }
    case 'Claim': {
      const path = value.split('.');
      return (req) => {
        let current: unknown = claimsOf(req, claimsKey);
        for (const key of path) {
          if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return '';
          current = (current as Record<string, unknown>)[key];
        }
        return typeof current === 'string' ? current : '';
      };
    }
  }
}

function hostName(req: Request): string {
  const host = req.headers.host ?? req.headers[':authority'];
  if (typeof host !== 'string') return '';
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'CasbinAuthzMiddleware',
  summary:
    'Authorization with Casbin (model and CSV policy files, ACL, RBAC, RBAC with domains): the authenticated subject, the path and the method; 403 when the policy refuses.',
  spec: CasbinAuthzMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    if (spec.domain !== undefined && spec.domain.from !== 'Host' && spec.domain.value === '')
      return [
        {
          path: ['domain', 'value'],
          message: `domain from ${spec.domain.from} needs a value`,
          hint: 'e.g. value: tenant1 (Fixed), X-Tenant (Header), tenant (Claim)',
        },
      ];
    return [];
  },
  preflight(spec) {
    return failureOf((fail) => void filesOf(spec, fail));
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const { logger, errorHandler } = await authzServices(ctx, manifest);
    const loaded = filesOf(spec, ctx.fail);
    if (loaded.arity === 4 && spec.domain === undefined)
      ctx.fail(
        ['spec', 'domain'],
        `the model's request has a domain (r = sub, dom, obj, act): say where it comes from`,
        {
          hint: 'domain: {from: Fixed, value: tenant1}, or from: Host, Header or Claim',
        },
      );
    if (loaded.arity === 3 && spec.domain !== undefined) {
      const at = ctx.position(['spec', 'domain']);
      logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}CasbinAuthzMiddleware domain is not used: the model's request has no domain`,
        {
          fix: 'remove domain, or use a model with r = sub, dom, obj, act',
        },
      );
    }
    if (spec.policy === '') {
      const at = ctx.position(['spec']);
      logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}CasbinAuthzMiddleware has no policy, so it refuses every request (403)`,
        {
          fix: 'policy: ./policy.csv with lines such as "p, admin, /data/*, GET|POST" and "g, alice, admin"',
        },
      );
    }
    let enforcer: Awaited<ReturnType<typeof createEnforcer>>;
    try {
      enforcer = await createEnforcer(loaded, spec.policy);
    } catch (err) {
      if (err instanceof CasbinFileError) ctx.fail(['spec', err.field], err.message);
      throw err;
    }
    return new CasbinAuthzMiddleware({
      enforcer,
      domain: loaded.arity === 4 && spec.domain ? domainOf(spec.domain, spec.claimsKey) : undefined,
      anonymousSubject: spec.anonymousSubject,
      logger,
      errorHandler,
    });
  },
});
