/**
 * An OPA server's REST Data API (https://www.openpolicyagent.org/docs/rest-api#data-api), the usual way to run
 * OPA beside a gateway (sidecar or shared server): `POST <url>/v1/data/<path>` with `{"input": …}`, answered
 * `200 {"result": …}` (no `result` when the rule is undefined for the input).
 *
 * A decision is an allow only when `result` is exactly `true` (AILERON's `Allowed()`); false, undefined or any
 * other value is a deny. Anything else (connection refused, timeout, a non-200 status, a body that is not such a
 * JSON object, a body over 1 MiB) is a failure: thrown as OPAServerError, which the middleware answers with 503
 * unless another policy allows (fail closed).
 */
import { Pool } from 'undici';

/** The most of an answer read: a decision is a few bytes; a policy that returns a whole document is a mistake. */
export const MaxResponseBytes = 1 << 20;

export class OPAServerError extends Error {
  override readonly name = 'OPAServerError';
}

/** `data.example.authz.allow` -> `example/authz/allow`; the validate step (api.ts) checks the syntax first. */
export const QueryParameterPattern = '^data(\\.[A-Za-z_][A-Za-z0-9_]*)+$';

export function dataPath(queryParameter: string): string {
  return queryParameter.split('.').slice(1).join('/');
}

/**
 * The decision in a Data API answer: true (allowed), false (denied), or an OPAServerError for an answer that is
 * not a decision. Exported for the fuzz test: the body is outside input.
 */
export function decodeDataResponse(status: number, body: string): boolean {
  if (status !== 200) {
    throw new OPAServerError(`OPA answered ${status}${errorMessageOf(body)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new OPAServerError('OPA answered 200 with a body that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OPAServerError('OPA answered 200 with a body that is not a JSON object');
  }
  return Object.hasOwn(parsed, 'result') && (parsed as { result: unknown }).result === true;
}

/** OPA's error body `{"code": "...", "message": "..."}`, shortened, for the log. */
function errorMessageOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; message?: unknown };
    const code = typeof parsed.code === 'string' ? parsed.code : '';
    const message = typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : '';
    return code || message ? `: ${[code, message].filter(Boolean).join(': ')}` : '';
  } catch {
    return '';
  }
}

export interface OPAServerOptions {
  /** `http(s)://host:port[/prefix]` of the OPA server. */
  readonly url: string;
  /** The most a decision may take, in ms, from sending to the end of the answer. */
  readonly timeoutMs: number;
  /** Headers sent with every query (an `Authorization` for an OPA run with `--authentication=token`). */
  readonly headers: Readonly<Record<string, string>>;
}

export class OPAServer {
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly origin: string;

  constructor(options: OPAServerOptions) {
    const url = new URL(options.url);
    this.origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#pool = new Pool(url.origin, {
      // Keep a few connections to the sidecar open; the decision deadline is ours (timeoutMs).
      connections: 64,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The path of the Data API query for `path` (`example/authz/allow`). */
  pathOf(path: string): string {
    return `${this.#prefix}/v1/data/${path}`;
  }

  /** Asks the server for the decision at `path` on `inputText` (canonical JSON); true = allowed. */
  async decide(path: string, inputText: string, signal: AbortSignal): Promise<boolean> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const both = AbortSignal.any([signal, deadline]);
    try {
      const res = await this.#pool.request({
        method: 'POST',
        path: this.pathOf(path),
        headers: this.#headers,
        body: `{"input":${inputText}}`,
        signal: both,
      });
      const body = await readBounded(res.body, MaxResponseBytes);
      return decodeDataResponse(res.statusCode, body);
    } catch (err) {
      if (err instanceof OPAServerError) throw err;
      if (deadline.aborted) throw new OPAServerError(`OPA did not answer within ${this.#timeoutMs} ms`);
      if (signal.aborted) throw err; // the client left: nothing to decide
      const reason =
        err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
      throw new OPAServerError(`OPA server ${this.origin} unreachable (${reason})`, { cause: err });
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new OPAServerError(`OPA answered more than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
