/**
 * Load generators, each run as a child process so that it never shares an event loop (or a core's time slice
 * accounting) with anything measured: wrk (preferred: C, one thread, as in the reference measurements) or
 * autocannon (npm; a Node process, so it needs about twice the CPU per request and caps what `direct` can show);
 * and h2load (nghttp2-client, C) for the HTTP/2 contender only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  /** Bytes received including headers. */
  readonly bytes: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Responses with a status >= 400 (wrk) or outside 2xx (autocannon). */
  readonly badStatus: number;
  /** Connect/read/write errors and timeouts. */
  readonly socketErrors: number;
}

export interface Generator {
  readonly name: 'wrk' | 'autocannon' | 'h2load';
  readonly version: string;
  /**
   * Runs `conns` connections against `url` for `seconds`, each request with `headers` (e.g. a session cookie);
   * rejects if the generator fails or overruns.
   */
  run(
    url: string,
    conns: number,
    seconds: number,
    signal: AbortSignal,
    headers?: Readonly<Record<string, string>>,
    request?: LoadRequest,
  ): Promise<LoadResult>;
}

/** A request other than `GET` with no body (the --soap contenders POST a document). */
export interface LoadRequest {
  readonly method: 'POST';
  readonly body: string;
}

/** The wrk script for `request`: the report plus its method and body (a Lua long string, level chosen to fit). */
export function wrkScriptFor(request: LoadRequest): string {
  let level = '';
  while (request.body.includes(`]${level}]`)) level += '=';
  return `${WrkScript}wrk.method = "${request.method}"\nwrk.body = [${level}[${request.body}]${level}]\n`;
}

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a generator process to completion with a hard time limit; resolves with its stdout. */
function runBounded(cmd: string, args: string[], limitMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err = (err + c).slice(-4000)));
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(kill, limitMs);
    signal.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', kill);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${cmd} ${sig ? `killed by ${sig}` : `exited with ${code}`}: ${err.trim() || out.trim()}`,
          ),
        );
    });
  });
}

/** Reads the one `BENCHJSON {...}` line both generators print (latencies in µs). */
export function parseResult(name: string, out: string): LoadResult {
  const line = /^BENCHJSON (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`${name} printed no result: ${out.trim().slice(-500)}`);
  const j = JSON.parse(line) as Record<string, number | undefined>;
  const n = (k: string) => j[k] ?? 0;
  const seconds = n('us') / 1e6;
  const requests = n('requests');
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    bytes: n('bytes'),
    p50Ms: n('p50') / 1000,
    p90Ms: n('p90') / 1000,
    p99Ms: n('p99') / 1000,
    maxMs: n('max') / 1000,
    badStatus: n('status'),
    socketErrors: n('connect') + n('read') + n('write') + n('timeout') + n('errors'),
  };
}

// wrk calls done() once at the end; this prints one machine-readable line (latencies in microseconds).
const WrkScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"us":%d,"bytes":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

/** `-H 'name: value'` for each header (wrk and h2load spell it the same). */
function headerArgs(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
}

export function wrk(workDir: string): Generator {
  const script = join(workDir, 'report.lua');
  writeFileSync(script, WrkScript);
  const v = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  const version = /wrk\s+(\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? 'unknown';
  return {
    name: 'wrk',
    version,
    async run(url, conns, seconds, signal, headers = {}, request = undefined) {
      let runScript = script;
      if (request !== undefined) {
        runScript = join(workDir, 'request.lua');
        writeFileSync(runScript, wrkScriptFor(request));
      }
      // -t1: on a 2-core box a second wrk thread only steals CPU from what is measured.
      const args = [
        '-t1',
        `-c${conns}`,
        `-d${seconds}s`,
        '--timeout',
        '5s',
        '-s',
        runScript,
        ...headerArgs(headers),
        url,
      ];
      return parseResult('wrk', await runBounded('wrk', args, (seconds + 30) * 1000, signal));
    },
  };
}

export function autocannon(): Generator {
  const require = createRequire(import.meta.url);
  const pkg = JSON.parse(readFileSync(require.resolve('autocannon/package.json'), 'utf8')) as {
    version: string;
  };
  const child = join(import.meta.dirname, 'autocannon-child.ts');
  return {
    name: 'autocannon',
    version: pkg.version,
    async run(url, conns, seconds, signal, headers = {}, request = undefined) {
      const args = [child, url, String(conns), String(seconds), JSON.stringify(headers)];
      if (request !== undefined) args.push(JSON.stringify(request));
      return parseResult(
        'autocannon',
        await runBounded(process.execPath, args, (seconds + 30) * 1000, signal),
      );
    },
  };
}

/**
 * h2load (nghttp2-client) for the HTTP/2 front end: one thread, one stream per connection (`-m1`), so N
 * connections are N requests in flight as with wrk. Its summary has no percentiles; they are computed from its
 * per-request log (`--log-file`: start µs, status, duration µs), which is deleted afterwards.
 */
export function h2load(workDir: string): Generator {
  const v = spawnSync('h2load', ['--version'], { encoding: 'utf8' });
  const version = /nghttp2\/(\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? 'unknown';
  let runs = 0;
  return {
    name: 'h2load',
    version,
    async run(url, conns, seconds, signal, headers = {}) {
      const log = join(workDir, `h2load-${++runs}.tsv`);
      const args = [
        '-t1',
        `-c${conns}`,
        '-m1',
        `-D${seconds}`,
        `--log-file=${log}`,
        ...headerArgs(headers),
        url,
      ];
      try {
        const out = await runBounded('h2load', args, (seconds + 30) * 1000, signal);
        return parseH2load(out, readFileSync(log, 'utf8'));
      } finally {
        rmSync(log, { force: true });
      }
    },
  };
}

/** h2load's summary and per-request log as a LoadResult. */
export function parseH2load(out: string, log: string): LoadResult {
  const finished = /^finished in ([\d.]+)(ms|s),/m.exec(out);
  const req =
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      out,
    );
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(out);
  if (!finished || !req || !codes) throw new Error(`h2load printed no result: ${out.trim().slice(-500)}`);
  const protocol = /^Application protocol: (\S+)/m.exec(out)?.[1];
  if (protocol !== 'h2')
    throw new Error(`h2load did not speak HTTP/2: the server chose ${protocol ?? 'nothing'}`);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const bytes = Number(/^traffic: \S+ \((\d+)\) total/m.exec(out)?.[1] ?? 0);
  const durations: number[] = [];
  for (const line of log.split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 3 && cols[1] !== '-1') durations.push(Number(cols[2]));
  }
  durations.sort((a, b) => a - b);
  const pct = (p: number) =>
    durations.length === 0
      ? 0
      : durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))]! / 1000;
  const requests = Number(req[3]);
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    bytes,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    maxMs: durations.length === 0 ? 0 : durations[durations.length - 1]! / 1000,
    badStatus: Number(codes[3]) + Number(codes[4]),
    socketErrors: Number(req[6]) + Number(req[7]),
  };
}
