/**
 * Helpers for the HTTPClient end-to-end tests: the test PKI (test/helpers/certs.ts), a tiny undici
 * DispatchHandler that collects a response, and an HTTPClient built from YAML through the real registry.
 */
import type { Server } from 'node:net';
import type { Dispatcher } from 'undici';
import { HTTPClient, resource } from '../../../src/core/httpclient/api.ts';
import { type Dispatch, RoundTripperRole } from '../../../src/core/roles.ts';
import { Registry } from '../../../src/kernel/registry.ts';
import type { ResourceDefinition } from '../../../src/kernel/resource.ts';
import { eventually, within as settleWithin } from '../../helpers/eventually.ts';

export { type KeyPair, makePKI, type TestPKI } from '../../helpers/certs.ts';

export interface Result {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface SendOptions {
  readonly path?: string;
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: Dispatcher.DispatchOptions['body'];
  /** Aborts the request through the controller the handler was given. */
  readonly signal?: AbortSignal;
}

/** Sends one request through `dispatch` with a minimal DispatchHandler; rejects with the transport error. */
export function send(dispatch: Dispatch, origin: string, options: SendOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: Result['headers'] = {};
    const chunks: Buffer[] = [];
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = () => controller?.abort(new Error('client went away'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    dispatch(
      {
        origin,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        body: options.body ?? null,
      },
      {
        onRequestStart(c) {
          controller = c;
          if (options.signal?.aborted) c.abort(new Error('client went away'));
        },
        onResponseStart(_c, s, h) {
          status = s;
          headers = h;
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          options.signal?.removeEventListener('abort', onAbort);
          resolve({ status, headers, body: Buffer.concat(chunks).toString('utf8') });
        },
        onResponseError(_c, err) {
          options.signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      },
    );
  });
}

/** Starts `server` on 127.0.0.1 port 0; returns the port. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as { port: number }).port;
}

/** Closes a server and every connection it still has. */
export async function shut(server: Server & { closeAllConnections?: () => void }): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

export interface LoadedClient {
  readonly client: HTTPClient;
  readonly dispatch: Dispatch;
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Builds an HTTPClient from the YAML of its `spec` (indented under `spec:`) plus `extra` documents, through the
 * real registry (with extra `kinds` registered).
 */
export async function loadClient(
  specYaml: string,
  extra = '',
  file = 'client.yaml',
  // biome-ignore lint/suspicious/noExplicitAny: test kinds of any spec
  kinds: readonly ResourceDefinition<any, any>[] = [],
): Promise<LoadedClient> {
  const registry = new Registry().register(resource, ...kinds);
  registry.loadText(file, `apiVersion: core/v1\nkind: HTTPClient\nspec:\n${specYaml}${extra}`, {});
  const rt = await registry.get(
    { apiVersion: 'core/v1', kind: 'HTTPClient', namespace: 'default', name: 'default' },
    RoundTripperRole,
  );
  if (!(rt instanceof HTTPClient)) throw new Error('not an HTTPClient');
  return { client: rt, dispatch: rt.dispatch, registry, close: () => registry.close() };
}

/** Indents YAML lines by `n` spaces. */
export function indent(text: string, n = 2): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}

/** Resolves when `condition()` holds (the shared `eventually`); fails with `what` after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  await eventually(condition, { what, deadline: ms });
}

/** `promise`, or a failure naming `what` if it has not settled within `ms` (the shared `within`). */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  return settleWithin(promise, { what, deadline: ms });
}
