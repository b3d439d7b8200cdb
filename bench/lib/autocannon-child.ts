/**
 * The autocannon load generator as its own process (spawned by load.ts, never imported by the harness): one
 * run against a URL, then one `BENCHJSON {...}` line in the same shape as the wrk script's.
 * autocannon's own histogram keeps whole milliseconds, too coarse for p50/p99 at these latencies, so every
 * response time is kept here (8 bytes each: a few MB for a run) and the percentiles are exact, in µs.
 *
 *   node bench/lib/autocannon-child.ts <url> <connections> <seconds> [<headers as JSON> [<{method, body} as JSON>]]
 */
import { createRequire } from 'node:module';

interface Instance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
interface Result {
  duration: number; // seconds
  errors: number; // includes timeouts
  non2xx: number;
}
type Autocannon = (
  opts: Record<string, unknown>,
  done: (err: Error | null, result: Result) => void,
) => Instance;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const [url, connsText, secondsText, headersText, requestText] = process.argv.slice(2);
const request = requestText ? (JSON.parse(requestText) as { method: string; body: string }) : undefined;
if (!url || !connsText || !secondsText)
  throw new Error('usage: autocannon-child.ts <url> <connections> <seconds>');

let times = new Float64Array(1 << 16);
let count = 0;
let bytes = 0;

const instance = autocannon(
  {
    url,
    connections: Number(connsText),
    duration: Number(secondsText),
    timeout: 5,
    pipelining: 1,
    headers: headersText ? (JSON.parse(headersText) as Record<string, string>) : {},
    ...(request === undefined ? {} : { method: request.method, body: request.body }),
  },
  (err, result) => {
    if (err) throw err;
    const sorted = times.subarray(0, count).sort();
    const pct = (p: number) =>
      count === 0 ? 0 : sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)]!;
    const us = (ms: number) => Math.round(ms * 1000);
    const line = {
      requests: count,
      us: Math.round(result.duration * 1e6),
      bytes,
      p50: us(pct(50)),
      p90: us(pct(90)),
      p99: us(pct(99)),
      max: us(count === 0 ? 0 : sorted[count - 1]!),
      status: result.non2xx,
      errors: result.errors,
    };
    process.stdout.write(`BENCHJSON ${JSON.stringify(line)}\n`);
  },
);

instance.on('response', (_client, _status, resBytes, ms) => {
  if (count === times.length) {
    const bigger = new Float64Array(times.length * 2);
    bigger.set(times);
    times = bigger;
  }
  times[count++] = ms;
  bytes += resBytes;
});
