/**
 * Active health checks: an HTTP probe per upstream, every `healthCheckInterval`, through the proxy's round
 * tripper (so an HTTPClient's TLS and proxy settings apply) but not its tripperwares (probes are not access
 * logged). A probe passes when a complete 2xx or 3xx response arrives within the timeout.
 *
 * Probes never pile up: the next one is scheduled when the previous one has finished (at most `timeout` later),
 * `interval` after the previous one started. Timers are unref'd and everything stops on `stop()`; a probe in
 * flight is aborted.
 */
import type { Dispatcher } from 'undici';
import type { Dispatch } from '../roles.ts';

export interface ProbeTarget {
  /** `scheme://host[:port]` */
  readonly origin: string;
  /** Path and query. */
  readonly path: string;
  readonly method: 'GET' | 'HEAD';
  readonly timeoutMs: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** Why it failed (or the status when it passed), for the logs. */
  readonly detail: string;
}

/** A body bigger than this is not read to the end: the status decides. */
const MaxBodyBytes = 64 * 1024;
const UserAgent = 'aileron-health-check';

class ProbeAborted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeAborted';
  }
}

/** One probe. Never rejects; settles by the timeout at the latest. */
export function probe(dispatch: Dispatch, t: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let bytes = 0;
    const host = new URL(t.origin).host;
    const finish = (r: ProbeResult, abort?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (abort !== undefined) controller?.abort(new ProbeAborted(abort));
      resolve(r);
    };
    const judged = (): ProbeResult =>
      status >= 200 && status < 400
        ? { ok: true, detail: `status ${status}` }
        : { ok: false, detail: `status ${status}` };
    const onAbort = () => finish({ ok: false, detail: 'stopped' }, 'stopped');
    const timer = setTimeout(() => {
      const detail = `no complete answer within ${t.timeoutMs} ms`;
      finish({ ok: false, detail }, detail);
    }, t.timeoutMs);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (done) c.abort(new ProbeAborted('probe already settled'));
      },
      onResponseStart(_c, statusCode) {
        if (statusCode >= 200) status = statusCode;
      },
      onResponseData(_c, chunk) {
        bytes += chunk.length;
        if (bytes > MaxBodyBytes) finish(judged(), 'body too large for a health check');
      },
      onResponseEnd() {
        finish(judged());
      },
      onResponseError(_c, err) {
        if (done) return;
        const code = (err as { code?: string }).code;
        finish({
          ok: false,
          detail: code && !err.message.includes(code) ? `${code} ${err.message}` : err.message,
        });
      },
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    try {
      dispatch(
        {
          origin: t.origin,
          path: t.path,
          method: t.method,
          headers: ['host', host, 'user-agent', UserAgent],
        },
        handler,
      );
    } catch (err) {
      finish({ ok: false, detail: (err as Error).message });
    }
  });
}

export interface ActiveCheckOptions {
  readonly dispatch: Dispatch;
  readonly target: ProbeTarget;
  readonly intervalMs: number;
  readonly initialDelayMs: number;
  /** Told the result of every probe. */
  readonly report: (ok: boolean, detail: string) => void;
}

/** Probes one upstream until stopped. */
export class ActiveCheck {
  readonly #o: ActiveCheckOptions;
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ActiveCheckOptions) {
    this.#o = options;
  }

  start(): void {
    this.#schedule(this.#o.initialDelayMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stop.abort();
  }

  #schedule(ms: number): void {
    if (this.#stop.signal.aborted) return;
    this.#timer = setTimeout(this.#run, ms);
    this.#timer.unref();
  }

  readonly #run = async (): Promise<void> => {
    this.#timer = undefined;
    const started = performance.now();
    const r = await probe(this.#o.dispatch, this.#o.target, this.#stop.signal);
    if (this.#stop.signal.aborted) return;
    try {
      this.#o.report(r.ok, r.detail);
    } catch {
      // A failing logger must not end the checks (nor, from a timer, the process).
    }
    this.#schedule(Math.max(0, this.#o.intervalMs - (performance.now() - started)));
  };
}
