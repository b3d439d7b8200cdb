/**
 * Starting and checking what is measured: the origin, and the contenders in front of it (`direct` is the origin
 * itself). Node processes bind port 0 and announce the port; nginx gets a port chosen just before it starts.
 * Every contender is verified (`/` = hello, `/64k` = 65,536 bytes through it) before any load is applied.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect as connectH2 } from 'node:http2';
import { request as secureRequest } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { delimiter, dirname, join, relative } from 'node:path';
import { SecureEncoder } from '../../src/app/middleware/session/encoder.ts';
import { selfSignedCert } from './certs.ts';
import { type Child, startChild, stopChild } from './children.ts';
import type { LoadRequest } from './load.ts';
import {
  nginxArgs,
  originConfig,
  proxyConfig,
  StaticFiles,
  staticConfig,
  writeStaticFiles,
} from './nginx.ts';
import { balancerOf, type ContenderName, DefaultConfig } from './options.ts';
import { SOAPHeaders, SOAPPath, SOAPRequest, SOAPResponseJSON } from './soapdoc.ts';

export interface Running {
  readonly name: ContenderName | 'origin';
  readonly url: string;
  /** The process whose tree's CPU and memory are reported for this contender (the origin for `direct`). */
  readonly child: Child;
  readonly command: string;
  /** The origin's other ports (`http://127.0.0.1:<port>`), when it was started with several. */
  readonly extraUrls?: readonly string[];
  /** Loaded over HTTP/2 with h2load instead of the run's HTTP/1.1 generator (gateway-h2). */
  readonly http2?: boolean;
  /** The path each body size is asked at, when not `/` and `/64k` (the static contenders serve files). */
  readonly paths?: Readonly<Record<'small' | '64k', string>>;
  /** Sent with every request of the load (gateway-browser: its session cookie; gateway-basic, gateway-key: credentials). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The load's method and body when not `GET` (the --soap contenders POST a SOAP document). */
  readonly request?: LoadRequest;
}

export interface Context {
  /** Repository root: where `bin/aileron.js` and `bench/` are. */
  readonly root: string;
  /** Private temporary folder (nginx prefixes, wrk script). */
  readonly work: string;
  readonly logs: string;
  /** Gateway config file, relative to root or absolute. */
  readonly config: string;
}

const StartTimeoutMs = 20_000;
/** The config of the `gw4-*` contenders (--balancers). */
export const BalancerConfig = 'bench/configs/gateway-4-upstreams.yaml';
/** The config of the `gateway-tls` contender (--fronts). */
export const TLSConfig = 'bench/configs/gateway-tls.yaml';
/** The config of the `gateway-h2` contender (--fronts): gateway-tls with HTTP/2 by ALPN. */
export const H2Config = 'bench/configs/gateway-h2.yaml';
/** The config of the `gateway-mw5` contender: gateway.yaml plus five bench/v1 NoopMiddleware. */
export const PlatformConfig = 'bench/configs/gateway-mw5.yaml';
/** The program that runs it: the `aileron` CLI with the NoopMiddleware kind added (src/cli.ts's embedding API). */
export const PlatformEntry = 'bench/gateway-mw.ts';
/** The response header the last NoopMiddleware of PlatformConfig sets: proof the middleware ran. */
export const PlatformHeader = 'x-bench-mw';
/** The config of the `gateway-throttle` contender (--throttle): a per-client token bucket that never limits. */
export const ThrottleConfig = 'bench/configs/gateway-throttle.yaml';
/** The config of the `gateway-throttle-redis` contender: the same bucket kept in a local redis-server. */
export const ThrottleRedisConfig = 'bench/configs/gateway-throttle-redis.yaml';
/** The config of the `gateway-static` contender (--static): a StaticFileHandler serving StaticFiles. */
export const StaticConfig = 'bench/configs/gateway-static.yaml';
/** The config of the `gateway-browser` contender (--browser): tracking, CORS, header policy and a session read. */
export const BrowserConfig = 'bench/configs/gateway-browser.yaml';
/** The Origin the `gateway-browser` load sends, allowed by its CORSMiddleware. */
export const BrowserOrigin = 'http://app.bench.test';
/** The config of the `gateway-trace*` contenders (--tracing): an OpenTelemetryTracer exporting to a loopback sink. */
export const TraceConfig = 'bench/configs/gateway-trace.yaml';
/** The OTLP sink they export to (its CPU is not the contender's). */
export const TraceSink = 'bench/otlp-sink.ts';
/** The configs of the `--authn` contenders and the credentials the load generator sends them. */
export const AuthnConfigs = {
  'gateway-basic': {
    config: 'bench/configs/gateway-basic.yaml',
    // bench / bench-password (bcrypt in bench/configs/bench-users.list).
    headers: { authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` },
  },
  'gateway-key': {
    config: 'bench/configs/gateway-key.yaml',
    headers: { 'x-api-key': 'bench-key-0123456789' },
  },
} as const;
/**
 * The `gateway-jwt-*` contenders (--authn): an OAuth resource server verifying a bearer JWT signed with a bench
 * key (bench/configs/jwt/<alg>.token, valid until 2100); `-nocache` turns the token cache off.
 */
export const JWTConfigs = {
  'gateway-jwt-rs256': {
    config: 'bench/configs/gateway-jwt-rs256.yaml',
    token: 'bench/configs/jwt/rs256.token',
  },
  'gateway-jwt-es256': {
    config: 'bench/configs/gateway-jwt-es256.yaml',
    token: 'bench/configs/jwt/es256.token',
  },
  'gateway-jwt-rs256-nocache': {
    config: 'bench/configs/gateway-jwt-rs256-nocache.yaml',
    token: 'bench/configs/jwt/rs256.token',
  },
  'gateway-jwt-es256-nocache': {
    config: 'bench/configs/gateway-jwt-es256-nocache.yaml',
    token: 'bench/configs/jwt/es256.token',
  },
} as const;
/** The config of the `gateway-accesslog` contender: an HTTPLogger access log written to a file. */
export const AccessLogConfig = 'bench/configs/gateway-accesslog.yaml';
/** The config of the `gateway-prom` contender: a PrometheusMeter as the route's middleware and tripperware. */
export const PrometheusConfig = 'bench/configs/gateway-prom.yaml';
/** The config of the `gateway-soap` contender (--soap): a SOAPRESTMiddleware in front of the proxy. */
export const SOAPConfig = 'bench/configs/gateway-soap.yaml';
/** The JSON upstream of the --soap contenders (its own process, like the trace sink). */
export const SOAPUpstream = 'bench/soap-upstream.ts';
/** How many origin ports the `gw4-*` contenders proxy to. */
export const BalancerUpstreams = 4;
const ListeningLine = /listening on (127\.0\.0\.1:\d+)/;

/** A contender that did not come up or answered wrongly; `output` is the end of what it printed. */
export class StartError extends Error {
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.output = output;
  }
}

/**
 * Waits for `ready`, then checks both bodies through `url`. On failure the process is stopped and its output
 * (complete: read after it has closed its pipes) travels with the error.
 */
async function bringUp<T extends { child: Child; url: string }>(
  child: Child,
  ready: () => Promise<T>,
  http2 = false,
  header?: string,
  requestHeaders?: Readonly<Record<string, string>>,
  check?: (url: string) => Promise<void>,
  paths?: Running['paths'],
  verifyWith?: (url: string) => Promise<void>,
): Promise<T> {
  try {
    const r = await ready();
    if (verifyWith !== undefined) await verifyWith(r.url);
    else await verify(r.url, http2, header, requestHeaders, paths);
    await check?.(r.url);
    return r;
  } catch (err) {
    await stopChild(child);
    throw new StartError((err as Error).message, child.tail());
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Polls until something accepts on `port` (nginx prints nothing when it is ready). */
async function waitForPort(child: Child, port: number): Promise<void> {
  const deadline = Date.now() + StartTimeoutMs;
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.name} ${child.exitDescription} before it was ready`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `${child.name} did not accept connections on 127.0.0.1:${port} within ${StartTimeoutMs / 1000} s`,
  );
}

async function startNginx(
  name: 'origin' | 'nginx' | 'nginx-tls' | 'nginx-static',
  ctx: Context,
  upstreamPort: number | undefined,
  originPorts = 1,
) {
  const prefix = join(ctx.work, name === 'origin' ? 'nginx-origin' : name);
  const port = await freePort();
  const extra: number[] = [];
  for (let i = 1; i < originPorts; i++) extra.push(await freePort());
  const tls = name === 'nginx-tls' ? selfSignedCert(ctx.work) : undefined;
  const conf =
    name === 'nginx-static'
      ? staticConfig(prefix, port, staticDir(ctx))
      : upstreamPort === undefined
        ? originConfig(prefix, port, extra)
        : proxyConfig(prefix, port, upstreamPort, tls);
  const args = nginxArgs(prefix, conf);
  const child = startChild(name, 'nginx', args, { cwd: ctx.root, logFile: join(ctx.logs, `${name}.log`) });
  return bringUp(
    child,
    async () => {
      for (const p of [port, ...extra]) await waitForPort(child, p);
      return {
        child,
        url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
        command: `nginx ${args.join(' ')}`,
        extraUrls: extra.map((p) => `http://127.0.0.1:${p}`),
      };
    },
    false,
    undefined,
    name === 'nginx-static' ? StaticFiles : undefined,
  );
}

/** The folder both static contenders serve (the same files), written once per run. */
function staticDir(ctx: Context): string {
  const dir = join(ctx.work, 'static-files');
  writeStaticFiles(dir);
  return dir;
}

interface Launch {
  readonly env?: Record<string, string>;
  readonly scheme?: 'http' | 'https';
  /** Verified over HTTP/2 (the contenders loaded with h2load). */
  readonly http2?: boolean;
  /** A response header the contender must send (see verify). */
  readonly header?: string;
  /** Request headers it needs (credentials); verified to be needed (see verify). */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  /** Proof that its feature ran for the verification requests (an access-log file, a metrics count). */
  readonly check?: (url: string) => Promise<void>;
  readonly paths?: Running['paths'];
  /** Replaces the GET checks of `verify` (contenders that are not loaded with GET). */
  readonly verifyWith?: (url: string) => Promise<void>;
}

/** Starts a process that announces "listening on host:port" and verifies the bodies through it. */
function startListening(
  name: ContenderName | 'origin',
  ctx: Context,
  command: string,
  args: string[],
  o: Launch,
) {
  const child = startChild(name, command, args, {
    cwd: ctx.root,
    ...(o.env ? { env: o.env } : {}),
    logFile: join(ctx.logs, `${name}.log`),
  });
  const shown = command === process.execPath ? 'node' : relative(ctx.root, command);
  return bringUp(
    child,
    async () => {
      const m = await child.waitFor(ListeningLine, StartTimeoutMs);
      return { child, url: `${o.scheme ?? 'http'}://${m[1]}`, command: `${shown} ${args.join(' ')}` };
    },
    o.http2 ?? false,
    o.header,
    o.requestHeaders,
    o.check,
    o.paths,
    o.verifyWith,
  );
}

function startNode(name: ContenderName | 'origin', ctx: Context, args: string[], o: Launch = {}) {
  return startListening(name, ctx, process.execPath, args, o);
}

/**
 * A gateway contender runs as users run it: the `bin/aileron.js` command, executed through its shebang, so the
 * Node options it sets (the young-generation size) are the ones measured. This Node comes first on PATH.
 */
function startGateway(name: ContenderName, ctx: Context, args: string[], o: Launch) {
  const path = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  return startListening(name, ctx, join(ctx.root, 'bin/aileron.js'), args, {
    ...o,
    env: { ...o.env, PATH: path },
  });
}

/**
 * The Node options of `bin/aileron.js`'s shebang (`#!/usr/bin/env -S node <options>`), for a program that runs the
 * gateway without that command (gateway-mw5): the same options, so the comparison with `gateway` is fair. Throws
 * when the first line has another form, rather than measuring with other options.
 */
export function aileronNodeOptions(root: string): string[] {
  const file = join(root, 'bin/aileron.js');
  const first = readFileSync(file, 'utf8').split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env -S node((?: +-\S+)*) *$/.exec(first);
  if (!m)
    throw new Error(`${file}: expected a first line "#!/usr/bin/env -S node <options>", found "${first}"`);
  return m[1]!.trim().split(/ +/).filter(Boolean);
}

/**
 * gateway-mw5: bench/gateway-mw.ts (the CLI plus the NoopMiddleware kind) with PlatformConfig, run by this Node
 * with the options of bin/aileron.js; verified to send PlatformHeader, so its middleware are known to run.
 */
function startPlatform(name: ContenderName, ctx: Context, env: Record<string, string>) {
  const args = [...aileronNodeOptions(ctx.root), PlatformEntry, '-f', PlatformConfig];
  return startNode(name, ctx, args, { env, header: PlatformHeader });
}

/**
 * Secrets for gateway-browser's session and a valid session cookie made with them, as a browser would hold it
 * after a login (a user name and a few values, one cookie).
 */
function benchSession(): { hmacSecret: string; cryptSecret: string; cookie: string } {
  const hmac = randomBytes(64);
  const crypt = randomBytes(32);
  const encoder = new SecureEncoder({
    hmac: { alg: 'SHA256', key: hmac },
    cipher: { alg: 'AESGCM', key: crypt },
    compress: false,
  });
  const now = Date.now();
  const payload = {
    c: now,
    t: now,
    d: { user: 'bench-user', roles: ['reader'], csrf: randomBytes(32).toString('hex') },
  };
  const value = encoder.encode(Buffer.from(JSON.stringify(payload))).toString('base64url');
  return {
    hmacSecret: hmac.toString('base64'),
    cryptSecret: crypt.toString('base64'),
    cookie: `_SESSION0=${value}`,
  };
}

/** The gateway accepted the cookie: an unusable one would be expired in the answer (Set-Cookie with Max-Age=0). */
function sessionRead(url: string, cookie: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    request(`${url}/`, { headers: { cookie }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 && res.headers['set-cookie'] === undefined);
    })
      .on('error', reject)
      .end();
  });
}

/** The origin, on `ports` ports (the first is its url; the others for --balancers). */
export async function startOrigin(kind: 'node' | 'nginx', ctx: Context, ports = 1): Promise<Running> {
  if (kind === 'nginx') return { name: 'origin', ...(await startNginx('origin', ctx, undefined, ports)) };
  const r = await startNode('origin', ctx, ['bench/origin.ts', '--ports', String(ports)]);
  if (ports === 1) return { name: 'origin', ...r };
  try {
    const m = await r.child.waitFor(/origin ports (\S+)/, StartTimeoutMs);
    return { name: 'origin', ...r, extraUrls: m[1]!.split(',').map((a) => `http://${a}`) };
  } catch (err) {
    await stopChild(r.child);
    throw new StartError((err as Error).message, r.child.tail());
  }
}

/**
 * A redis-server for the gateway-throttle-redis contender, on a free loopback port, without persistence; stopped
 * with every other child at the end of the run. Resolves with its address once it accepts connections.
 */
async function startRedisServer(ctx: Context): Promise<string> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = startChild('redis-server', 'redis-server', args, {
    cwd: ctx.work,
    logFile: join(ctx.logs, 'redis-server.log'),
  });
  try {
    await child.waitFor(/Ready to accept connections/, StartTimeoutMs);
  } catch (err) {
    await stopChild(child);
    throw new StartError(`redis-server: ${(err as Error).message}`, child.tail());
  }
  return `127.0.0.1:${port}`;
}

/** The JSON upstream of a --soap contender (bench/soap-upstream.ts): its own process, stopped with the others. */
async function startSOAPUpstream(name: string, ctx: Context): Promise<{ child: Child; url: string }> {
  const child = startChild(name, process.execPath, [SOAPUpstream], {
    cwd: ctx.root,
    logFile: join(ctx.logs, `${name}.log`),
  });
  try {
    const m = await child.waitFor(ListeningLine, StartTimeoutMs);
    return { child, url: `http://${m[1]}` };
  } catch (err) {
    await stopChild(child);
    throw new StartError(`${name}: ${(err as Error).message}`, child.tail());
  }
}

/** POSTs the --soap load's request through `url`: 200 with `type` and a body of at least `min` bytes, else throws. */
async function soapAnswered(url: string, type: string, min: number): Promise<void> {
  const answer = await new Promise<{ status: number; type: string; length: number }>((resolve, reject) => {
    const req = request(
      `${url}${SOAPPath}`,
      { method: 'POST', headers: SOAPHeaders, agent: false, timeout: 5000 },
      (res) => {
        let length = 0;
        res.on('data', (c: Buffer) => {
          length += c.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), length }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end(SOAPRequest);
  });
  if (answer.status !== 200 || answer.type !== type || answer.length < min)
    throw new Error(
      `POST ${SOAPPath} answered ${answer.status} ${answer.type} with ${answer.length} bytes, expected 200 ${type} with at least ${min}`,
    );
}

/**
 * The OTLP sink of a gateway-trace* contender (bench/otlp-sink.ts), like the Redis server: its own process, stopped
 * with every other child at the end of the run. Resolves once it listens.
 */
async function startTraceSink(name: string, ctx: Context): Promise<{ child: Child; url: string }> {
  const child = startChild(name, process.execPath, [TraceSink], {
    cwd: ctx.root,
    logFile: join(ctx.logs, `${name}.log`),
  });
  try {
    const m = await child.waitFor(ListeningLine, StartTimeoutMs);
    return { child, url: `http://${m[1]}` };
  } catch (err) {
    await stopChild(child);
    throw new StartError(`${name}: ${(err as Error).message}`, child.tail());
  }
}

/** The undici baseline's command line: plain HTTP, or HTTPS (TLS 1.3) with `tls`. */
export function baselineArgs(upstream: string, tls?: { cert: string; key: string }, h2 = false): string[] {
  const args = ['bench/baseline-undici.ts', '--upstream', upstream];
  if (!tls) return args;
  return [...args, '--tls-cert', tls.cert, '--tls-key', tls.key, ...(h2 ? ['--h2'] : [])];
}

/** Starts one contender in front of `origin`. Throws (with the process's output) if it does not come up. */
export async function startContender(name: ContenderName, ctx: Context, origin: Running): Promise<Running> {
  const originPort = Number(new URL(origin.url).port);
  switch (name) {
    case 'direct':
      return { name, url: origin.url, child: origin.child, command: '(the origin itself)' };
    case 'nginx':
    case 'nginx-tls':
      return { name, ...(await startNginx(name, ctx, originPort)) };
    case 'nginx-static':
      return { name, ...(await startNginx(name, ctx, undefined)), paths: StaticFiles };
    case 'gateway-static': {
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_STATIC_ROOT: staticDir(ctx),
        GATEWAY_LOG_LEVEL: 'info',
      };
      const running = await startGateway(name, ctx, ['-f', StaticConfig], { env, paths: StaticFiles });
      return { name, ...running, paths: StaticFiles };
    }
    case 'undici-baseline':
      return { name, ...(await startNode(name, ctx, baselineArgs(origin.url))) };
    case 'undici-baseline-tls': {
      const args = baselineArgs(origin.url, selfSignedCert(ctx.work));
      return { name, ...(await startNode(name, ctx, args, { scheme: 'https' })) };
    }
    case 'undici-baseline-h2': {
      const args = baselineArgs(origin.url, selfSignedCert(ctx.work), true);
      const running = await startNode(name, ctx, args, { scheme: 'https', http2: true });
      return { name, ...running, http2: true };
    }
    case 'gateway':
      return {
        name,
        ...(await startGateway(name, ctx, ['-f', ctx.config], {
          env: {
            BENCH_GATEWAY_ADDR: '127.0.0.1:0',
            BENCH_ORIGIN_URL: origin.url,
            // The readiness line is logged at info; nothing is logged per request without an access logger.
            GATEWAY_LOG_LEVEL: 'info',
          },
        })),
      };
    case 'gateway-mw5':
      return {
        name,
        ...(await startPlatform(name, ctx, {
          BENCH_GATEWAY_ADDR: '127.0.0.1:0',
          BENCH_ORIGIN_URL: origin.url,
          GATEWAY_LOG_LEVEL: 'info',
        })),
      };
    case 'gateway-throttle':
    case 'gateway-throttle-redis': {
      const env: Record<string, string> = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        GATEWAY_LOG_LEVEL: 'info',
      };
      const redis = name === 'gateway-throttle-redis';
      if (redis) env.BENCH_REDIS_ADDR = await startRedisServer(ctx);
      const config = redis ? ThrottleRedisConfig : ThrottleConfig;
      // Verified to send the throttle's RateLimit header: the middleware is known to run.
      return { name, ...(await startGateway(name, ctx, ['-f', config], { env, header: 'ratelimit' })) };
    }
    case 'gateway-browser': {
      const session = benchSession();
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        BENCH_SESSION_HMAC_SECRET: session.hmacSecret,
        BENCH_SESSION_CRYPT_SECRET: session.cryptSecret,
        GATEWAY_LOG_LEVEL: 'info',
      };
      // Verified to return the tracking's X-Request-ID (the chain runs) and to accept the cookie (no Set-Cookie).
      const running = await startGateway(name, ctx, ['-f', BrowserConfig], { env, header: 'x-request-id' });
      if (!(await sessionRead(running.url, session.cookie))) {
        await stopChild(running.child);
        throw new StartError(
          'the session cookie was not accepted (a fresh session was started)',
          running.child.tail(),
        );
      }
      // A browser's cross-origin call: an allowed Origin, so CORS answers with its headers on every request.
      return { name, ...running, headers: { cookie: session.cookie, origin: BrowserOrigin } };
    }
    case 'gateway-trace100':
    case 'gateway-trace1': {
      const sink = await startTraceSink(`${name}-sink`, ctx);
      const env: Record<string, string> = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        BENCH_OTLP_URL: `${sink.url}/v1/traces`,
        BENCH_TRACE_RATIO: name === 'gateway-trace100' ? '1' : '0.01',
        GATEWAY_LOG_LEVEL: 'info',
      };
      const running = await startGateway(name, ctx, ['-f', TraceConfig], { env });
      if (name === 'gateway-trace100') {
        // The verification requests were traced: their spans reach the sink within the batch delay (5 s).
        try {
          await sink.child.waitFor(/export 1 /, StartTimeoutMs);
        } catch (err) {
          await stopChild(running.child);
          throw new StartError(
            `no spans reached the OTLP sink: ${(err as Error).message}`,
            running.child.tail(),
          );
        }
      }
      return { name, ...running };
    }
    case 'gateway-soap':
    case 'gateway-post': {
      const upstream = await startSOAPUpstream(`${name}-upstream`, ctx);
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: upstream.url,
        GATEWAY_LOG_LEVEL: 'info',
      };
      const soap = name === 'gateway-soap';
      const config = soap ? SOAPConfig : DefaultConfig;
      // Verified with the load's own request: XML back from gateway-soap (the conversion ran), JSON from gateway-post.
      const running = await startGateway(name, ctx, ['-f', config], {
        env,
        verifyWith: (url) =>
          soap
            ? soapAnswered(url, 'text/xml; charset=utf-8', 4096)
            : soapAnswered(url, 'application/json', SOAPResponseJSON.length),
      });
      const paths = { small: SOAPPath, '64k': SOAPPath };
      return {
        name,
        ...running,
        paths,
        headers: SOAPHeaders,
        request: { method: 'POST', body: SOAPRequest },
      };
    }
    case 'gateway-basic':
    case 'gateway-key': {
      const { config, headers } = AuthnConfigs[name];
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        GATEWAY_LOG_LEVEL: 'info',
      };
      // Verified to refuse a request without the credentials: the authentication is known to run.
      const running = await startGateway(name, ctx, ['-f', config], { env, requestHeaders: headers });
      return { name, ...running, headers };
    }
    case 'gateway-jwt-rs256':
    case 'gateway-jwt-es256':
    case 'gateway-jwt-rs256-nocache':
    case 'gateway-jwt-es256-nocache': {
      const { config, token } = JWTConfigs[name];
      const headers = { authorization: `Bearer ${readFileSync(join(ctx.root, token), 'utf8').trim()}` };
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        GATEWAY_LOG_LEVEL: 'info',
      };
      // Verified to refuse a request without the token: the verification is known to run.
      const running = await startGateway(name, ctx, ['-f', config], { env, requestHeaders: headers });
      return { name, ...running, headers };
    }
    case 'gateway-accesslog': {
      const dir = join(ctx.work, 'accesslog');
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        BENCH_LOG_DIR: dir,
        GATEWAY_LOG_LEVEL: 'info',
      };
      const check = () => accessLogged(join(dir, 'access.log'));
      return { name, ...(await startGateway(name, ctx, ['-f', AccessLogConfig], { env, check })) };
    }
    case 'gateway-prom': {
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        GATEWAY_LOG_LEVEL: 'info',
      };
      return {
        name,
        ...(await startGateway(name, ctx, ['-f', PrometheusConfig], { env, check: metricsCounted })),
      };
    }
    case 'gateway-2w':
      return {
        name,
        ...(await startGateway(name, ctx, ['-f', ctx.config, '--workers', '2'], {
          env: { BENCH_GATEWAY_ADDR: '127.0.0.1:0', BENCH_ORIGIN_URL: origin.url, GATEWAY_LOG_LEVEL: 'info' },
        })),
      };
    case 'gateway-tls':
    case 'gateway-h2': {
      const { cert, key } = selfSignedCert(ctx.work);
      const env = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_ORIGIN_URL: origin.url,
        BENCH_TLS_CERT: cert,
        BENCH_TLS_KEY: key,
        GATEWAY_LOG_LEVEL: 'info',
      };
      const http2 = name === 'gateway-h2';
      const running = await startGateway(name, ctx, ['-f', http2 ? H2Config : TLSConfig], {
        env,
        scheme: 'https',
        http2,
      });
      return { name, ...running, http2 };
    }
    default: {
      const algorithm = balancerOf(name)!;
      const urls = [origin.url, ...(origin.extraUrls ?? [])];
      if (urls.length < BalancerUpstreams)
        throw new StartError(`the origin listens on ${urls.length} port(s), ${BalancerUpstreams} needed`, '');
      const env: Record<string, string> = {
        BENCH_GATEWAY_ADDR: '127.0.0.1:0',
        BENCH_LB_ALGORITHM: algorithm,
        GATEWAY_LOG_LEVEL: 'info',
      };
      urls.slice(0, BalancerUpstreams).forEach((u, i) => {
        env[`BENCH_ORIGIN_URL_${i + 1}`] = u;
      });
      return { name, ...(await startGateway(name, ctx, ['-f', BalancerConfig], { env })) };
    }
  }
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function get1(url: string, headers: Readonly<Record<string, string>> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // The gateway-tls contender has a throwaway self-signed certificate.
    const send = url.startsWith('https:')
      ? (u: string, o: object, cb: Parameters<typeof request>[2]) =>
          secureRequest(u, { ...o, rejectUnauthorized: false }, cb)
      : request;
    const req = send(url, { agent: false, timeout: 3000, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 3 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET over HTTP/2 (TLS, ALPN h2 only: a server that does not negotiate h2 fails), certificate not verified. */
function getH2(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const session = connectH2(u.origin, { rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => session.destroy(new Error(`no answer from ${url} within 3 s`)), 3000);
    const done = (err: Error | undefined, value?: Answer) => {
      clearTimeout(timer);
      session.close();
      if (err) reject(err);
      else resolve(value!);
    };
    session.on('error', (err) => done(err));
    const req = session.request({ ':path': u.pathname });
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(undefined, { status, headers, body: Buffer.concat(chunks) }));
    req.on('error', (err) => done(err));
  });
}

/**
 * Checks that both bodies come back intact through `url` (over HTTP/2 when `http2`), and with `header` that both
 * responses carry that header. With `requestHeaders` (credentials), they are sent, and a request without them must
 * be refused (401 or 403).
 */
/** gateway-accesslog: the verification requests are in the access-log file (entries are written as they end). */
async function accessLogged(file: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {}
    if ((text.match(/"msg":"server"/g) ?? []).length >= 2) return;
    if (Date.now() > deadline)
      throw new Error(`${file}: no access-log entries for the verification requests`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** gateway-prom: /metrics counts the verification requests by route. */
async function metricsCounted(url: string): Promise<void> {
  const m = await get1(`${url}/metrics`);
  const text = m.body.toString();
  if (m.status !== 200 || !/^http_requests_total\{[^}]*route="[^"]*"[^}]*code="200"\} [1-9]/m.test(text))
    throw new Error(`GET /metrics answered ${m.status} without the verification requests counted`);
}

export async function verify(
  url: string,
  http2 = false,
  header?: string,
  requestHeaders?: Readonly<Record<string, string>>,
  paths: Running['paths'] = { small: '/', '64k': '/64k' },
): Promise<void> {
  if (requestHeaders !== undefined) {
    const refused = await get1(`${url}${paths.small}`);
    if (refused.status !== 401 && refused.status !== 403)
      throw new Error(`GET / without credentials answered ${refused.status}, expected 401 or 403`);
  }
  const get = http2 ? getH2 : (u: string) => get1(u, requestHeaders);
  const small = await get(`${url}${paths.small}`);
  if (small.status !== 200 || small.body.toString() !== 'hello') {
    throw new Error(
      `GET / answered ${small.status} "${small.body.toString().slice(0, 80)}", expected 200 "hello"`,
    );
  }
  const large = await get(`${url}${paths['64k']}`);
  if (large.status !== 200 || large.body.length !== 65_536) {
    throw new Error(
      `GET /64k answered ${large.status} with ${large.body.length} bytes, expected 200 with 65536`,
    );
  }
  if (header !== undefined)
    for (const [path, answer] of [
      ['/', small],
      ['/64k', large],
    ] as const)
      if (answer.headers[header] === undefined)
        throw new Error(`GET ${path} answered without the ${header} header its middleware set`);
}
