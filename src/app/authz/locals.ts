/**
 * What the authorization kinds read from the request context: the claims and the subject an authentication
 * kind left there (src/app/authn/locals.ts declares them; imported for its types only, a shared module of
 * src/app/authn, not a feature).
 */

import type { Request } from '../../core/roles.ts';
import type { AuthnSubject } from '../authn/locals.ts';

/** The claims an authentication kind put under `claimsKey`, or undefined when the request is not authenticated. */
export function claimsOf(req: Request, claimsKey: string): unknown {
  return req.ctx.locals.claims?.get(claimsKey);
}

/** The authenticated subject's id, or undefined when the request is not authenticated. */
export function subjectOf(req: Request): string | undefined {
  const subject: AuthnSubject | undefined = req.ctx.locals.subject;
  return subject === undefined || subject.id === '' ? undefined : subject.id;
}
