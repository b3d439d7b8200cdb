/**
 * Idle and absolute session lifetimes (OWASP session management): a session unused for `idleMs`, or older than
 * `absoluteMs`, is over, whatever the cookie says. Checked from the times kept inside the (authenticated) payload,
 * so a client cannot extend them. A session that is only read is "touched" (saved again with the new time) at most
 * once per `touchIntervalMs` (a tenth of the idle time, at most a minute), so that reads stay free of encoding:
 * the idle time actually allowed is between idle − touchInterval and idle.
 */
export interface Lifetimes {
  /** 0 = no idle limit. */
  readonly idleMs: number;
  /** 0 = no absolute limit. */
  readonly absoluteMs: number;
}

export class Expiry {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly touchIntervalMs: number;

  constructor(lifetimes: Lifetimes) {
    this.idleMs = lifetimes.idleMs;
    this.absoluteMs = lifetimes.absoluteMs;
    this.touchIntervalMs = lifetimes.idleMs > 0 ? Math.min(60_000, Math.ceil(lifetimes.idleMs / 10)) : 0;
  }

  /** The session created at `created` and last touched at `touched` is over at `now`. */
  expired(created: number, touched: number, now: number): boolean {
    if (this.idleMs > 0 && now - touched >= this.idleMs) return true;
    if (this.absoluteMs > 0 && now - created >= this.absoluteMs) return true;
    // From the future (a clock moved back a lot, or a forged time with encoding disabled): not trusted.
    return touched - now > 60_000 || created > touched;
  }

  /** Saving only to record the use is due. */
  touchDue(touched: number, now: number): boolean {
    return this.touchIntervalMs > 0 && now - touched >= this.touchIntervalMs;
  }

  /** How long a store should keep the session saved at `now`; undefined = no limit from here. */
  ttlMs(created: number, now: number): number | undefined {
    let ttl: number | undefined;
    if (this.idleMs > 0) ttl = this.idleMs;
    if (this.absoluteMs > 0) {
      const left = Math.max(1, created + this.absoluteMs - now);
      ttl = ttl === undefined ? left : Math.min(ttl, left);
    }
    return ttl;
  }
}
