/**
 * The debug endpoints of an HTTPServer: AILERON's `enableProfile` (Go's pprof) and `enableExpvar` (Go's expvar),
 * in their Node.js form. Host-less routes, GET only:
 *
 *   /debug/pprof/                     the list below, as text
 *   /debug/pprof/profile?seconds=N    a CPU profile of N seconds (1..60, default 10): a .cpuprofile file for
 *                                     Chrome DevTools (Performance), VS Code or speedscope
 *   /debug/pprof/heap                 a heap snapshot: a .heapsnapshot file for Chrome DevTools (Memory)
 *   /debug/vars                       process figures as JSON (memory, CPU, event-loop delay, uptime)
 *
 * They are sensitive: a heap snapshot holds whatever is in memory (keys, tokens, request data), and both
 * profiles cost CPU and pause the process. So they answer only clients on the loopback interface or on a unix
 * socket; anyone else gets the 404 of a route that does not exist. Bind them to an admin listener (a second
 * HTTPServer on 127.0.0.1) and reach it with `kubectl port-forward` or `ssh -L`.
 */

import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import { GatewayError } from '../../kernel/errors.ts';
import type { CreateContext } from '../../kernel/resource.ts';
import { ErrServerBadRequest, ErrServerDebugBusy, ErrServerNotFound } from '../errors.ts';
import type { HandlerFn, Request, Response } from '../roles.ts';
import type { HTTPServerSpec } from './api.ts';
import { parseListenAddress } from './listen.ts';
import type { CompiledRoute } from './server.ts';

export const MaxProfileSeconds = 60;
export const DefaultProfileSeconds = 10;

/** The routes `enableProfile` and `enableExpvar` add to a server; none when both are off. */
export function debugRoutes(ctx: CreateContext, spec: HTTPServerSpec): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  const route = (pattern: string, handler: HandlerFn, field: string): void => {
    routes.push({
      pattern,
      hosts: [],
      methods: ['GET'],
      middleware: [],
      handler: loopbackOnly(handler),
      field: ['spec', field],
    });
  };
  if (spec.enableProfile) {
    route('/debug/pprof/{$}', index, 'enableProfile');
    route('/debug/pprof/profile', cpuProfile, 'enableProfile');
    route('/debug/pprof/heap', heapSnapshot, 'enableProfile');
  }
  if (spec.enableExpvar) {
    ctx.onClose(watchEventLoop());
    route('/debug/vars', vars, 'enableExpvar');
  }
  if (routes.length > 0 && !isLocalAddress(spec.httpConfig.listenConfig?.addr || spec.addr)) {
    ctx.logger.warn(
      `${spec.enableProfile ? 'enableProfile' : 'enableExpvar'} on ${spec.httpConfig.listenConfig?.addr || spec.addr}: the debug endpoints answer only clients on this machine (loopback); other clients get 404`,
      {
        hint: 'serve them from a separate HTTPServer on 127.0.0.1 and reach it with kubectl port-forward or ssh -L',
      },
    );
  }
  return routes;
}

/** A listen address that only this machine can reach: loopback or a unix socket. */
export function isLocalAddress(addr: string): boolean {
  try {
    const options = parseListenAddress(addr);
    if (options.path !== undefined) return true;
    return options.host !== undefined && isLoopback(options.host);
  } catch {
    return false;
  }
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return v4.startsWith('127.') || v4 === '::1' || v4 === '0:0:0:0:0:0:0:1';
}

/** Clients on another machine get the 404 of a missing route: the endpoints do not admit they exist. */
function loopbackOnly(handler: HandlerFn): HandlerFn {
  return (req, res) => {
    const peer = req.socket.remoteAddress;
    // A unix socket has no remote address; whoever may open the socket file is on this machine.
    if (peer !== undefined && !isLoopback(peer)) {
      throw new GatewayError(ErrServerNotFound, {
        details: { method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '' },
      });
    }
    return handler(req, res);
  };
}

const Index = `Debug endpoints (answer loopback clients only):
/debug/pprof/profile?seconds=N   CPU profile of N seconds (1-${MaxProfileSeconds}, default ${DefaultProfileSeconds}); open in Chrome DevTools
/debug/pprof/heap                heap snapshot (pauses the process while taken); open in Chrome DevTools (Memory)
/debug/vars                      process figures as JSON (with enableExpvar)
`;

function index(_req: Request, res: Response): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(Index),
    'cache-control': 'no-store',
  });
  res.end(Index);
}

/** The `seconds` query parameter, or a 400. */
export function profileSeconds(url: string): number {
  const q = url.indexOf('?');
  const text = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('seconds');
  if (text === null || text === '') return DefaultProfileSeconds;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MaxProfileSeconds) {
    throw new GatewayError(ErrServerBadRequest, {
      cause: new Error(`seconds must be a whole number from 1 to ${MaxProfileSeconds}, not "${text}"`),
    });
  }
  return n;
}

/** One profile of each kind at a time per process: they are expensive, and V8 runs one at a time anyway. */
const busy = { cpu: false, heap: false };

function attachment(kind: string, ext: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return `attachment; filename="${kind}-${process.pid}-${stamp}.${ext}"`;
}

async function cpuProfile(req: Request, res: Response): Promise<void> {
  const seconds = profileSeconds(req.url ?? '');
  if (req.method === 'HEAD') return headOnly(res);
  if (busy.cpu) throw new GatewayError(ErrServerDebugBusy, { details: { what: 'CPU profile' } });
  busy.cpu = true;
  const session = new Session();
  try {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    // Stop early when the client goes away: nobody would read the profile.
    const gone = await new Promise<boolean>((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        res.off('close', onClose);
        resolve(false);
      }, seconds * 1000);
      res.once('close', onClose);
    });
    const { profile } = await session.post('Profiler.stop');
    if (gone) return;
    const body = JSON.stringify(profile);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'content-disposition': attachment('cpu', 'cpuprofile'),
      'cache-control': 'no-store',
    });
    res.end(body);
  } finally {
    session.disconnect();
    busy.cpu = false;
  }
}

async function heapSnapshot(req: Request, res: Response): Promise<void> {
  if (req.method === 'HEAD') return headOnly(res);
  if (busy.heap) throw new GatewayError(ErrServerDebugBusy, { details: { what: 'heap snapshot' } });
  busy.heap = true;
  try {
    // Taken here, synchronously: the process pauses for as long as that takes (about a second per 100 MB of
    // heap). Then streamed with backpressure, never held whole as a string.
    const snapshot = v8.getHeapSnapshot();
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-disposition': attachment('heap', 'heapsnapshot'),
      'cache-control': 'no-store',
    });
    await pipeline(snapshot, res).catch(() => {
      // the client went away; the stream is destroyed and its memory released
    });
  } finally {
    busy.heap = false;
  }
}

function headOnly(res: Response): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end();
}

// ---------------------------------------------------------------------------------------------------------------
// /debug/vars

/** The event-loop delay histogram, shared by every server with enableExpvar, sampling while one exists. */
let loop: { histogram: ReturnType<typeof monitorEventLoopDelay>; users: number } | undefined;

function watchEventLoop(): () => void {
  if (!loop) {
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    loop = { histogram, users: 0 };
  }
  loop.users++;
  let released = false;
  return () => {
    if (released || !loop) return;
    released = true;
    if (--loop.users === 0) {
      loop.histogram.disable();
      loop = undefined;
    }
  };
}

const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

/** What /debug/vars shows (Node's counterpart of Go's memstats and cmdline). */
export function processVars(): Record<string, unknown> {
  const h = loop?.histogram;
  return {
    pid: process.pid,
    node: process.version,
    cmdline: process.argv,
    // Node and V8 options of this process (the `aileron` command sets --max-semi-space-size).
    execArgv: process.execArgv,
    uptimeSeconds: process.uptime(),
    memoryUsage: process.memoryUsage(),
    resourceUsage: process.resourceUsage(),
    heapStatistics: v8.getHeapStatistics(),
    heapSpaces: Object.fromEntries(
      v8
        .getHeapSpaceStatistics()
        .map((s) => [
          s.space_name,
          { size: s.space_size, used: s.space_used_size, available: s.space_available_size },
        ]),
    ),
    eventLoop: {
      utilization: performance.eventLoopUtilization().utilization,
      // Since the first server with enableExpvar was created; milliseconds.
      delayMs: h
        ? {
            min: ms(h.min),
            mean: ms(h.mean),
            stddev: ms(h.stddev),
            p50: ms(h.percentile(50)),
            p90: ms(h.percentile(90)),
            p99: ms(h.percentile(99)),
            max: ms(h.max),
          }
        : null,
    },
    activeResources: countResources(),
  };
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function vars(_req: Request, res: Response): void {
  const body = JSON.stringify(processVars());
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
