/**
 * app/v1 IPFilterMiddleware: allows or refuses requests by the client's IP address (not an AILERON kind: AILERON
 * only has the listener's allow-list, `listenConfig.networks`, which drops connections). See middleware.ts and
 * docs/reference/app/ipfiltermiddleware.md.
 */
import { NetworkList, NetworkSet, networkProblems } from '../../../core/common/networks.ts';
import { errorHandlerFor } from '../../../core/services.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj, type Static } from '../../../kernel/schema.ts';
import { IPFilterMiddleware } from './middleware.ts';

export const IPFilterMiddlewareSpec = Obj({
  allows: NetworkList(
    'CIDRs (IPv4 or IPv6) or single addresses of the clients allowed; none = every client not denied',
  ),
  denies: NetworkList('CIDRs or single addresses of the clients refused (403), whatever allows says'),
});
export type IPFilterMiddlewareSpec = Static<typeof IPFilterMiddlewareSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'IPFilterMiddleware',
  summary:
    "Refuses requests by the client's IP address (allow and deny CIDR lists, IPv4 and IPv6) with 403; the client is the socket peer or, through the server's trusted proxies, the client they name.",
  spec: IPFilterMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    return [...networkProblems(spec.allows, ['allows']), ...networkProblems(spec.denies, ['denies'])];
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    if (spec.allows.length === 0 && spec.denies.length === 0) {
      // Valid, and lets everyone through: say so rather than let it look like a filter.
      const at = ctx.position(['spec']);
      ctx.logger.warn(
        `${at ? `${formatPosition(at)}: ` : ''}IPFilterMiddleware has no allows or denies, so it refuses nobody`,
        {
          fix: 'list networks, e.g. allows: ["10.0.0.0/8", "2001:db8::/32"]',
        },
      );
    }
    return new IPFilterMiddleware({
      allows: new NetworkSet(spec.allows),
      denies: new NetworkSet(spec.denies),
      // As AILERON's middleware do: the error handler named by metadata.errorHandler, else the default.
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
