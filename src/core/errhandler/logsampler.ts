/**
 * Keeps an outage from turning into a flood of identical log lines (and of stack traces captured for them):
 * per key, at most `perSecond` lines are written in each one-second window; the others are only counted, and
 * when the window ends one line says how many were left out. A key that stays quiet costs nothing; the keys are
 * the few status and error code pairs the gateway has, so the table stays small.
 */

export interface SamplerClock {
  now(): number;
  /** Runs `fn` after `ms` without keeping the process alive. */
  later(fn: () => void, ms: number): void;
}

const realClock: SamplerClock = {
  now: () => Date.now(),
  later: (fn, ms) => setTimeout(fn, ms).unref(),
};

interface Window<T> {
  readonly start: number;
  logged: number;
  left: number;
  sample: T;
  closed: boolean;
}

export class LogSampler<T> {
  readonly #perSecond: number;
  readonly #report: (left: number, sample: T) => void;
  readonly #clock: SamplerClock;
  readonly #windows = new Map<string, Window<T>>();

  /**
   * `perSecond` 0 = no limit. `report` is called once at the end of a window in which lines were left out,
   * with their number and the first of them.
   */
  constructor(perSecond: number, report: (left: number, sample: T) => void, clock = realClock) {
    this.#perSecond = perSecond;
    this.#report = report;
    this.#clock = clock;
  }

  /** True when a line for `key` may be written now; `sample` describes it in the summary if it is not. */
  admit(key: string, sample: T): boolean {
    if (this.#perSecond === 0) return true;
    const now = this.#clock.now();
    let w = this.#windows.get(key);
    if (w !== undefined && now - w.start >= 1000) {
      this.#close(key, w); // its timer may not have run yet
      w = undefined;
    }
    if (w === undefined) {
      this.#windows.set(key, { start: now, logged: 1, left: 0, sample, closed: false });
      return true;
    }
    if (w.logged < this.#perSecond) {
      w.logged++;
      return true;
    }
    if (w.left++ === 0) {
      w.sample = sample;
      const open = w;
      this.#clock.later(() => this.#close(key, open), Math.max(0, w.start + 1000 - now));
    }
    return false;
  }

  #close(key: string, w: Window<T>): void {
    if (w.closed) return;
    w.closed = true;
    if (this.#windows.get(key) === w) this.#windows.delete(key);
    if (w.left > 0) this.#report(w.left, w.sample);
  }
}
