/**
 * `node bench/feature-cost.ts`: what a feature's own code costs a request, in process, without sockets: the
 * configured middleware (and tripperware) of a bench contender, built from YAML by the kernel as the gateway
 * builds them, run on the gateway's request and response classes with a request context, in front of a handler
 * that does what the proxy does with the upstream call (dispatch through the tripperware, then `writeHead` with
 * undici's raw header array and a 5-byte body); `close` then ends the exchange (completion hooks, access-log
 * entry). CPU time per request, the fastest of several rounds, minus the same without the feature.
 *
 * It leaves out what only a real connection costs (system calls, parsing, the upstream call): read it as the
 * floor of what a contender adds to `gateway` in bench/cpu-per-request.ts. Method: bench/README.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dispatcher } from 'undici';
import { SecureEncoder } from '../src/app/middleware/session/encoder.ts';
import { composeTripperwares } from '../src/core/common/tripperware.ts';
import { contextOf } from '../src/core/context.ts';
import { createDefaultErrorHandler } from '../src/core/errhandler/default.ts';
import { GatewayResponse } from '../src/core/response.ts';
import {
  chain,
  type Dispatch,
  GatewayRequest,
  type HandlerFn,
  type Middleware,
  MiddlewareRole,
  type Response,
  type Tripperware,
  TripperwareRole,
} from '../src/core/roles.ts';
import { DefaultName, ErrorHandlerTable } from '../src/core/services.ts';
import { Registry } from '../src/kernel/registry.ts';
import { registerAll } from '../src/register.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

/** What nginx answers `GET /` with, as undici hands it to the proxy. */
const UpstreamHead = [
  'Server',
  'nginx/1.22.1',
  'Date',
  'Sun, 06 Dec 2026 17:00:00 GMT',
  'Content-Type',
  'text/plain',
  'Content-Length',
  '5',
  'Connection',
  'keep-alive',
];

interface Feature {
  readonly yaml: string;
  readonly middleware: readonly string[];
  readonly tripperware: readonly string[];
  /** Request headers besides Host (browser: its cookie and Origin). */
  readonly headers?: readonly string[];
}

function features(
  dir: string,
  sink: string,
  session: { hmac: string; crypt: string },
): Record<string, Feature> {
  const tracer = (ratio: number) => ({
    yaml: `apiVersion: app/v1
kind: OpenTelemetryTracer
spec:
  serviceName: bench-gateway
  traceIDRatioBased: ${ratio}
  httpExporter:
    endpointURL: ${sink}/v1/traces
`,
    middleware: ['app/v1/OpenTelemetryTracer'],
    tripperware: ['app/v1/OpenTelemetryTracer'],
  });
  return {
    gateway: { yaml: '', middleware: [], tripperware: [] },
    'gateway-accesslog': {
      yaml: `apiVersion: core/v1
kind: HTTPLogger
spec:
  logger: { apiVersion: core/v1, kind: SLogger, name: access }
---
apiVersion: core/v1
kind: SLogger
metadata: { name: access }
spec:
  level: Info
  noLocation: true
  logOutput: { outputTarget: File, logDir: ${dir}, logFileName: access.log, rotateSize: 256, maxBackup: 1 }
`,
      middleware: ['core/v1/HTTPLogger'],
      tripperware: [],
    },
    'gateway-prom': {
      yaml: 'apiVersion: app/v1\nkind: PrometheusMeter\n',
      middleware: ['app/v1/PrometheusMeter'],
      tripperware: ['app/v1/PrometheusMeter'],
    },
    'gateway-trace1': tracer(0.01),
    'gateway-trace100': tracer(1),
    'gateway-browser': {
      yaml: `apiVersion: app/v1
kind: TrackingMiddleware
spec: { requestIDProxyName: X-Request-ID, traceIDProxyName: X-Trace-ID, requestIDResponseName: X-Request-ID }
---
apiVersion: app/v1
kind: CORSMiddleware
spec:
  corsPolicy: { allowedOrigins: ["http://app.bench.test"], allowCredentials: true }
---
apiVersion: app/v1
kind: HeaderPolicyMiddleware
spec:
  maxHeaderBytes: 16384
  requestPolicy: { removes: ["X-Debug"], set: { X-Gateway: aileron-ts } }
  responsePolicy: { removes: ["Server"] }
  securityHeaders: { contentSecurityPolicy: "default-src 'self'" }
---
apiVersion: app/v1
kind: SessionMiddleware
spec:
  secureEncoder: { hmacSecret: ${session.hmac}, cryptSecret: ${session.crypt} }
  idleTimeout: 0
  absoluteTimeout: 0
`,
      middleware: [
        'app/v1/TrackingMiddleware',
        'app/v1/CORSMiddleware',
        'app/v1/HeaderPolicyMiddleware',
        'app/v1/SessionMiddleware',
      ],
      tripperware: [],
    },
  };
}

function refOf(id: string) {
  const [group, version, kind] = id.split('/');
  return { apiVersion: `${group}/${version}`, kind: kind!, namespace: 'default', name: 'default' };
}

/** The session secrets and a valid cookie, as the gateway-browser contender makes them. */
function benchSession() {
  const hmac = randomBytes(64);
  const crypt = randomBytes(32);
  const encoder = new SecureEncoder({
    hmac: { alg: 'SHA256', key: hmac },
    cipher: { alg: 'AESGCM', key: crypt },
    compress: false,
  });
  const now = Date.now();
  const payload = { c: now, t: now, d: { user: 'bench-user', roles: ['reader'], csrf: 'x'.repeat(64) } };
  const value = encoder.encode(Buffer.from(JSON.stringify(payload))).toString('base64url');
  return { hmac: hmac.toString('base64'), crypt: crypt.toString('base64'), cookie: `_SESSION0=${value}` };
}

/** A dispatch that answers at once, as undici does for a 200 with 5 bytes. */
const answer: Dispatch = (_opts, handler) => {
  const h = handler as Dispatcher.DispatchHandler;
  const controller = { abort() {}, pause() {}, resume() {} } as unknown as Dispatcher.DispatchController;
  h.onRequestStart?.(controller, {});
  h.onResponseStart?.(controller, 200, {}, 'OK');
  h.onResponseData?.(controller, Buffer.from('hello'));
  h.onResponseEnd?.(controller, {});
  return true;
};

const noHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
} as unknown as Dispatcher.DispatchHandler;

async function build(name: string, f: Feature) {
  const registry = registerAll(new Registry());
  // What the Entrypoint registers before anything is created.
  registry.registerService(ErrorHandlerTable, DefaultName, createDefaultErrorHandler(registry.defaultLogger));
  if (f.yaml !== '') registry.loadText(`${name}.yaml`, f.yaml, {});
  const mws: Middleware[] = [];
  for (const id of f.middleware) mws.push(await registry.get(refOf(id), MiddlewareRole));
  const tws: Tripperware[] = [];
  for (const id of f.tripperware) tws.push(await registry.get(refOf(id), TripperwareRole));
  const dispatch = composeTripperwares(answer, tws);
  const proxy: HandlerFn = (req, res) => {
    dispatch(
      {
        origin: 'http://127.0.0.1:8081',
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: ['host', '127.0.0.1:8081'],
        ctx: req.ctx,
      } as Dispatcher.DispatchOptions,
      noHandler,
    );
    res.writeHead(200, UpstreamHead);
    res.end('hello');
  };
  return chain(mws, proxy);
}

function requestOnce(handler: HandlerFn, socket: Socket, raw: readonly string[]): void {
  const req = new GatewayRequest(socket);
  req.method = 'GET';
  req.url = '/';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.rawHeaders = raw as string[];
  const res = new GatewayResponse(req) as unknown as Response;
  contextOf(req, res);
  void handler(req, res);
  res.emit('close');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      requests: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '7' },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'aileron-featurecost-'));
  // The trace exports go to a sink in another process, as in the bench: their serialization is the gateway's.
  const sink = spawn(process.execPath, [join(import.meta.dirname, 'otlp-sink.ts')], { stdio: 'pipe' });
  const sinkUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    sink.stdout.on('data', (c: Buffer) => {
      out += c;
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(`http://${m[1]}`);
    });
    sink.once('exit', () => reject(new Error('the OTLP sink did not start')));
  });
  const session = benchSession();
  const all = features(dir, sinkUrl, session);
  const names = ['gateway', ...(values.only ?? Object.keys(all).join(',')).split(',')].filter(
    (n, i, a) => a.indexOf(n) === i,
  );
  const requests = Number(values.requests);
  const rounds = Number(values.rounds);
  const socket = new Socket();
  const handlers = new Map<string, HandlerFn>();
  for (const n of names) handlers.set(n, await build(n, all[n]!));
  const rawOf = (n: string) =>
    n === 'gateway-browser'
      ? ['Host', '127.0.0.1:8080', 'cookie', session.cookie, 'origin', 'http://app.bench.test']
      : ['Host', '127.0.0.1:8080'];
  // Rounds interleave the features, so that a busy moment of the machine is shared; the fastest round counts.
  const best = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const n of names) {
      const handler = handlers.get(n)!;
      const raw = rawOf(n);
      const t0 = process.cpuUsage();
      for (let i = 0; i < requests; i++) requestOnce(handler, socket, raw);
      const t = process.cpuUsage(t0);
      const us = (t.user + t.system) / requests;
      if (round > 0) best.set(n, Math.min(best.get(n) ?? Number.POSITIVE_INFINITY, us));
      // Lets the file sink write, the batch processor export and timers run between rounds.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const base = best.get('gateway')!;
  log('| feature (as in the contender) | µs/request in process | its own cost (− gateway) |');
  log('|---|---:|---:|');
  for (const n of names)
    log(
      `| ${n} | ${best.get(n)!.toFixed(2)} | ${n === 'gateway' ? '–' : (best.get(n)! - base).toFixed(2)} |`,
    );
  sink.kill();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}

process.exitCode = await main();
process.exit();
