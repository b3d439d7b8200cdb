/**
 * A node:http upstream on 127.0.0.1:0 that answers 200 with the request it received as JSON (`{method, path,
 * headers, rawHeaders}`) and records it, for tests of what a gateway sends upstream; and an HTTP/2 (h2c or TLS)
 * request helper with a deadline.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { within } from './eventually.ts';

export interface UpstreamSeen {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

export interface RecordingUpstream {
  readonly url: string;
  readonly requests: UpstreamSeen[];
  close(): Promise<void>;
}

/** `respond` may add response headers (e.g. to see what a response policy does to them). */
export async function recordingUpstream(
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => {},
): Promise<RecordingUpstream> {
  const requests: UpstreamSeen[] = [];
  const server = http.createServer((req, res) => {
    const seen = { method: req.method!, path: req.url!, headers: req.headers, rawHeaders: req.rawHeaders };
    requests.push(seen);
    req.resume();
    req.on('end', () => {
      respond(req, res);
      const json = JSON.stringify(seen);
      if (!res.headersSent) res.setHeader('content-type', 'application/json');
      res.end(json);
    });
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'), { what: 'the upstream listens' });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface H2Answer {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/2 request on a session of its own; 5 s deadline. `options` go to http2.connect (TLS settings). */
export function h2request(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  options: http2.SecureClientSessionOptions = {},
): Promise<H2Answer> {
  return new Promise((done, fail) => {
    const session = http2.connect(url, options);
    const deadline = setTimeout(() => {
      session.destroy();
      fail(new Error('no HTTP/2 answer within 5 s'));
    }, 5000);
    session.on('error', (err) => {
      clearTimeout(deadline);
      fail(err);
    });
    const stream = session.request({ ':path': '/', ...headers });
    let body = '';
    let head: http2.IncomingHttpHeaders = {};
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      head = h;
    });
    stream.on('data', (c: string) => {
      body += c;
    });
    stream.on('end', () => {
      clearTimeout(deadline);
      session.close();
      done({ status: Number(head[':status']), headers: head, body });
    });
    stream.on('error', (err) => {
      clearTimeout(deadline);
      session.destroy();
      fail(err);
    });
    stream.end();
  });
}
