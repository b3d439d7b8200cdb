/**
 * Waiting for log lines of a running gateway (started with test/helpers/gateway.ts): reload, cluster and
 * profile tests act, then wait for the line that says it happened. Never sleeps: it re-checks on each output.
 */
import type { RunningGateway } from './gateway.ts';

export interface WaitOptions {
  /** Only look at output after this offset of stdout (take `gw.stdout().length` before acting). */
  readonly from?: number;
  /** How many matching lines to wait for (default 1). */
  readonly count?: number;
  readonly timeoutMs?: number;
}

/** Resolves with the matching lines (as many as `count`) once stdout has them; rejects after the timeout. */
export function waitForLog(
  gw: RunningGateway,
  pattern: RegExp,
  options: WaitOptions = {},
): Promise<RegExpMatchArray[]> {
  const from = options.from ?? 0;
  const count = options.count ?? 1;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const find = () =>
    gw
      .stdout()
      .slice(from)
      .split('\n')
      .map((line) => line.match(pattern))
      .filter((m): m is RegExpMatchArray => m !== null);
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = find();
      if (found.length < count) return false;
      done();
      resolve(found.slice(0, count));
      return true;
    };
    const onData = () => void check();
    const onExit = () => {
      if (check()) return;
      done();
      reject(
        new Error(
          `gateway exited while waiting for ${pattern}\nstdout:\n${gw.stdout()}\nstderr:\n${gw.stderr()}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(
          `no ${count} line(s) matching ${pattern} within ${timeoutMs} ms (found ${find().length})\nstdout:\n${gw.stdout().slice(from)}\nstderr:\n${gw.stderr()}`,
        ),
      );
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      gw.child.stdout?.off('data', onData);
      gw.child.off('exit', onExit);
    };
    gw.child.stdout?.on('data', onData);
    gw.child.on('exit', onExit);
    check();
  });
}

/** The JSON log lines of stdout after `from` that match `pattern` in their text. */
export function logLines(gw: RunningGateway, pattern: RegExp, from = 0): Array<Record<string, unknown>> {
  return gw
    .stdout()
    .slice(from)
    .split('\n')
    .filter((l) => pattern.test(l))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
