/**
 * The StatusPageHandler runtime: one object in two roles, as PrometheusMeter.
 *
 * - Middleware: records each request of the routes it wraps when the exchange ends (`ctx.onComplete`): by
 *   `ctx.route` (the router's pattern, never the raw path), whether it failed (5xx, or no response at all), and
 *   its duration. Nothing else per request; without this kind in a configuration nothing is recorded at all.
 * - Handler: the page (`<pattern>`), its script (`app.js`), its style sheet (`style.css`) and its JSON API
 *   (`api`), GET and HEAD only, for loopback clients (and `allowedNetworks`) only: others get 403.
 */
import cluster from 'node:cluster';
import type { NetworkSet } from '../../../core/common/networks.ts';
import type { ErrorHandler, Handler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import type { GatewayStatus } from '../../../core/status.ts';
import { defineError, GatewayError } from '../../../kernel/errors.ts';
import { PageScript, PageStyle, pageHtml } from './page.ts';
import { buildReport, type StatusReport, type WorkerSnapshot } from './report.ts';
import { RouteTable } from './stats.ts';

/** Not in AILERON (which has no status page): a free code of the app handler range. */
export const ErrStatusPageForbidden = defineError(
  'E3310',
  'AppHandlerStatusPageForbidden',
  'client address {{client}} may not see the status page',
  403,
);

/** The files of the page, under each configured pattern. */
export const PageFiles = ['', 'app.js', 'style.css', 'api'] as const;

/** Asks every worker for its snapshot (through the primary); undefined in a single process. */
export type GatherWorkers = (
  self: WorkerSnapshot,
) => Promise<{ snapshots: WorkerSnapshot[]; complete: boolean; note: string | null }>;

export interface StatusPageOptions {
  /** The page's base paths, each ending in `/`. */
  readonly bases: readonly string[];
  readonly refreshMs: number;
  /** Clients allowed besides loopback and unix-socket peers. */
  readonly allowed: NetworkSet;
  readonly status: GatewayStatus | undefined;
  readonly errorHandler: ErrorHandler;
  readonly gather?: GatherWorkers | undefined;
  /** Where the route numbers are kept (kept across reloads by the resource); a new table by default. */
  readonly routes?: RouteTable | undefined;
}

/**
 * Security headers of every answer: only this origin's script, style and API, no framing, nothing cached, no
 * content sniffing, no referrer. `img-src data:` for the empty icon only (which spares a request for
 * /favicon.ico, a 404 outside the page's paths).
 */
const SecurityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

export class StatusPageHandler implements Handler, Middleware {
  readonly patterns: readonly string[];
  readonly methods = ['GET', 'HEAD'];
  readonly #refreshMs: number;
  readonly #allowed: NetworkSet;
  readonly #status: GatewayStatus | undefined;
  readonly #errorHandler: ErrorHandler;
  readonly #gather: GatherWorkers | undefined;
  readonly #routes: RouteTable;
  readonly #assets: Map<string, Asset>;
  /** Requests for the page itself: not counted, so that its own polling does not show as traffic. */
  readonly #own = new WeakSet<Request>();

  constructor(options: StatusPageOptions) {
    // Exact routes for the page's four files: anything else under the base is the router's 404.
    this.patterns = options.bases.flatMap((base) =>
      PageFiles.map((f) => (f === '' ? `${base}{$}` : base + f)),
    );
    this.#refreshMs = options.refreshMs;
    this.#allowed = options.allowed;
    this.#status = options.status;
    this.#errorHandler = options.errorHandler;
    this.#gather = options.gather;
    this.#routes = options.routes ?? new RouteTable();
    this.#assets = new Map([
      ['', { type: 'text/html; charset=utf-8', body: Buffer.from(pageHtml(options.refreshMs)) }],
      ['app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(PageScript) }],
      ['style.css', { type: 'text/css; charset=utf-8', body: Buffer.from(PageStyle) }],
    ]);
  }

  // ---- Middleware: per-route numbers ----

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      req.ctx.onComplete((done) => {
        if (this.#own.has(req)) return;
        // A failure is the gateway's or the upstream's: a 5xx, or no response at all (status 0).
        const failed = done.status >= 500 || done.status === 0;
        this.#routes.record(req.ctx.route, Date.now(), done.durationMs, failed);
      });
      return next(req, res);
    };
  }

  // ---- Handler: the page, its files and its API ----

  readonly handle = async (req: Request, res: Response): Promise<void> => {
    this.#own.add(req);
    if (!this.#admits(req)) {
      const client = req.ctx.clientAddress;
      this.#errorHandler.serveHTTPError(
        req,
        res,
        new GatewayError(ErrStatusPageForbidden, { details: { client: client === '' ? 'unknown' : client } }),
      );
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const file = path.slice(path.lastIndexOf('/') + 1);
    if (file === 'api') {
      const body = Buffer.from(JSON.stringify(await this.report()));
      return this.#send(req, res, 'application/json; charset=utf-8', body);
    }
    const asset = this.#assets.get(file) ?? this.#assets.get('')!;
    this.#send(req, res, asset.type, asset.body);
  };

  /** Loopback and unix-socket clients, and those of `allowedNetworks`; the client as the server resolves it. */
  #admits(req: Request): boolean {
    const ip = req.ctx.client.ip;
    // A unix socket has no address: whoever may open the socket file is on this machine.
    if (ip === undefined) return true;
    return this.#allowed.has(ip);
  }

  #send(req: Request, res: Response, type: string, body: Buffer): void {
    res.writeHead(200, { ...SecurityHeaders, 'content-type': type, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** One of the page's own routes (`/status/api`, or `host/status/api` on a virtual host with hosts). */
  #isOwnRoute(route: string): boolean {
    return this.patterns.some((p) => route.endsWith(p) && !route.slice(0, -p.length).includes('/'));
  }

  /** This process's numbers, as it gives them to the page or to the worker that asks. */
  snapshot(): WorkerSnapshot {
    return {
      pid: process.pid,
      worker: cluster.isWorker ? Number(process.env.AILERON_WORKER) || (cluster.worker?.id ?? null) : null,
      uptimeSeconds: process.uptime(),
      generation: this.#status?.generation ?? null,
      requests: this.#routes.requests,
      routes: this.#routes.figures(),
    };
  }

  /** The JSON the page polls: every worker's numbers when they can be gathered, else this process's. */
  async report(): Promise<StatusReport> {
    const self = this.snapshot();
    let workers = [self];
    let complete = true;
    let note: string | null = null;
    if (this.#gather) {
      const gathered = await this.#gather(self);
      workers = gathered.snapshots;
      complete = gathered.complete;
      note = gathered.note;
    } else if (self.worker !== null) {
      // Under --workers without a way to ask the others: say whose numbers these are.
      complete = false;
      note = `These numbers are worker ${self.worker}'s (pid ${self.pid}) only: each poll is answered by one worker.`;
    }
    return buildReport({
      status: this.#status,
      refreshMs: this.#refreshMs,
      self,
      workers,
      complete,
      note,
      hidden: (route) => this.#isOwnRoute(route),
    });
  }
}
