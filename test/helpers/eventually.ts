/**
 * Waiting in tests, always with a deadline: `eventually` polls a condition until it passes, `within` awaits a
 * promise (an event, an exit) for a bounded time. A test that waits for something that never happens fails
 * after its deadline with what was last seen, instead of hanging until the suite's timeout.
 */

export interface WaitOptions {
  /** Milliseconds before giving up (default 5000). */
  readonly deadline?: number;
  /** Milliseconds between two tries of an `eventually` condition (default 10). */
  readonly interval?: number;
  /** What is awaited, for the timeout message (e.g. `the upstream saw the request`). */
  readonly what?: string;
}

const DefaultDeadline = 5000;
const DefaultInterval = 10;

/** The error a wait throws at its deadline; `cause` is the condition's last failure, if it threw. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** Settles like `promise`, or rejects with a DeadlineError after `ms`. */
function race<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(message())), Math.max(0, ms));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Calls `condition` (sync or async) until it passes: returns without throwing and does not return `false`.
 * Resolves with its value. At the deadline, throws a DeadlineError naming the last failure (a thrown assertion's
 * message, `returned false`, or a try that did not settle in time). A try that is still running at the deadline
 * counts as a failure: the wait never outlives its deadline.
 */
export async function eventually<T>(
  condition: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, false>> {
  const deadline = options.deadline ?? DefaultDeadline;
  const interval = options.interval ?? DefaultInterval;
  const until = performance.now() + deadline;
  let last: unknown;
  let tries = 0;
  for (;;) {
    tries++;
    try {
      const value = await race(
        Promise.resolve().then(condition),
        until - performance.now(),
        () => 'a try did not settle before the deadline',
      );
      if (value !== false) return value as Exclude<T, false>;
      last = new Error('returned false');
    } catch (err) {
      last = err;
    }
    const left = until - performance.now();
    if (left <= 0) {
      throw new DeadlineError(
        `${options.what ?? 'the condition'} did not hold within ${deadline} ms (${tries} tries); last: ${describe(last)}`,
        { cause: last },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
  }
}

/** Awaits `promise` for at most the deadline; then rejects with a DeadlineError naming `what`. */
export function within<T>(promise: Promise<T>, options: WaitOptions = {}): Promise<T> {
  const deadline = options.deadline ?? DefaultDeadline;
  return race(
    promise,
    deadline,
    () => `${options.what ?? 'the promise'} did not settle within ${deadline} ms`,
  );
}
