/**
 * A small bounded load for reload tests: `concurrency` loops, each sending GET requests one after another over
 * keep-alive connections, recording every failure and the `x-upstream` header of every answer.
 */
import http from 'node:http';

export interface LoadStats {
  readonly ok: number;
  readonly failures: string[];
  /** Per loop, the `x-upstream` values in the order the answers came. */
  readonly seen: string[][];
}

export interface Load {
  /** Resolves once an answer with `x-upstream: value` has come in (from any loop). */
  reached(value: string, timeoutMs?: number): Promise<void>;
  /** Resolves once `n` more requests have succeeded. */
  more(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<LoadStats>;
}

export function startLoad(url: string, concurrency = 8, path = '/load'): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let stopped = false;
  let ok = 0;
  let latest: string | undefined;
  const failures: string[] = [];
  const waiters = new Map<string, Array<() => void>>();
  const counters: Array<{ at: number; resolve: () => void }> = [];

  /** One request; resolves with the answer's `x-upstream`, or undefined when it failed. */
  const one = () =>
    new Promise<string | undefined>((resolve) => {
      const req = http.get(`${url}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          const upstream = String(res.headers['x-upstream'] ?? '');
          if (res.statusCode !== 200) {
            failures.push(`status ${res.statusCode} (x-upstream "${upstream}")`);
            resolve(undefined);
            return;
          }
          ok++;
          latest = upstream;
          for (let i = counters.length - 1; i >= 0; i--) {
            if (ok >= counters[i]!.at) counters.splice(i, 1)[0]!.resolve();
          }
          for (const w of waiters.get(upstream)?.splice(0) ?? []) w();
          resolve(upstream);
        });
        res.on('error', (err) => {
          failures.push(`response error: ${err.message}`);
          resolve(undefined);
        });
      });
      req.on('error', (err) => {
        failures.push(`request error: ${err.message}`);
        resolve(undefined);
      });
    });

  const seen: string[][] = [];
  const loops = Array.from({ length: concurrency }, async (_, i) => {
    const mine: string[] = [];
    seen[i] = mine;
    while (!stopped) {
      const upstream = await one();
      if (upstream !== undefined) mine.push(upstream);
    }
  });

  return {
    reached(value, timeoutMs = 10_000) {
      if (latest === value) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no answer from upstream ${value} within ${timeoutMs} ms (latest ${latest})`)),
          timeoutMs,
        );
        const list = waiters.get(value) ?? [];
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
        waiters.set(value, list);
      });
    },
    more(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`not ${n} more answers within ${timeoutMs} ms`)),
          timeoutMs,
        );
        counters.push({
          at: ok + n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failures, seen };
    },
  };
}
