/**
 * Roles defined by the app layer, in addition to core's (core/roles.ts). Like those, they are checked when a
 * reference is resolved at start-up, never per request.
 */
import type { Role } from '../kernel/resource.ts';

/**
 * Something a HealthCheckHandler probes: a storage, an upstream, a dependency. Resolves true when healthy.
 * `signal` aborts at the health check's deadline (or when the client leaves); a probe should stop then.
 */
export interface HealthChecker {
  healthCheck(signal: AbortSignal): Promise<boolean>;
}

export const HealthCheckerRole: Role<HealthChecker> = {
  name: 'HealthChecker',
  is: (v): v is HealthChecker =>
    typeof v === 'object' && v !== null && typeof (v as HealthChecker).healthCheck === 'function',
};
