/**
 * A whole gateway built from YAML in this process (registerAll plus the kinds a test adds), run until `close`: for
 * unit tests of kinds that need the HTTPServer's own settings (forwardedHeaders, listen addresses) around them.
 * The first runner must be an HTTPServer; `url` is its bound address.
 *
 *   const gw = await serveYaml(yaml, [MyTestHandlerKind]);
 *   try { ... await fetch(gw.url) ... } finally { await gw.close(); }
 */
import http from 'node:http';
import type { Entrypoint } from '../../src/core/entrypoint/api.ts';
import type { HTTPServer } from '../../src/core/httpserver/server.ts';
import { RunnerRole } from '../../src/core/roles.ts';
import { Registry } from '../../src/kernel/registry.ts';
import type { ResourceDefinition } from '../../src/kernel/resource.ts';
import { registerAll } from '../../src/register.ts';
import { within } from './eventually.ts';
import { type MemoryLine, memoryLogger } from './memory-logger.ts';

export interface YamlGateway {
  /** `http://<bound address>` of the first HTTPServer. */
  readonly url: string;
  /** The bound port of the first HTTPServer. */
  readonly port: number;
  readonly logs: readonly MemoryLine[];
  close(): Promise<void>;
}

export async function serveYaml(
  yaml: string,
  // biome-ignore lint/suspicious/noExplicitAny: any kind, as Registry.register takes them
  kinds: ReadonlyArray<ResourceDefinition<any, any>> = [],
): Promise<YamlGateway> {
  const { logger, lines } = memoryLogger('debug');
  const registry = registerAll(new Registry());
  for (const kind of kinds) registry.register(kind);
  registry.defaultLogger = logger;
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  try {
    registry.loadText('test.yaml', yaml, {});
    const entrypoint = (await registry.get(registry.entrypointRef(), RunnerRole)) as Entrypoint;
    const server = entrypoint.runners[0] as HTTPServer;
    running = entrypoint.run(stop.signal);
    const stopped = running.then(() => {
      throw new Error('the gateway stopped before it listened');
    });
    const addr = await within(Promise.race([server.listening, stopped]), { what: 'the gateway listens' });
    const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
    return {
      url: `http://${addr}`,
      port,
      logs: lines,
      close: async () => {
        stop.abort();
        await within(running!, { what: 'the gateway stops' });
        await registry.close();
      },
    };
  } catch (err) {
    stop.abort();
    await running?.catch(() => {});
    await registry.close();
    throw err;
  }
}

export interface FromOptions {
  /** The server's address to connect to (default 127.0.0.1): `::1` for IPv6. */
  readonly host?: string;
  /** The client's own address (loopback has all of 127.0.0.0/8), e.g. `127.0.0.2`. */
  readonly from?: string;
  readonly method?: string;
  readonly path?: string;
  /** Raw header pairs `[name, value, ...]`, sent in this order. */
  readonly headers?: readonly string[];
}

export interface FromAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request on a connection of its own, from a chosen client address; 5 s deadline. */
export function requestFrom(port: number, options: FromOptions = {}): Promise<FromAnswer> {
  return new Promise((done, fail) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        agent: false,
        ...(options.from === undefined ? {} : { localAddress: options.from }),
        // Raw pairs keep order and repeats; Node adds no Host to them, so it goes first here.
        headers: ['Host', 'gateway.test', ...(options.headers ?? [])],
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));
    req.end();
  });
}
