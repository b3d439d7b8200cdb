/**
 * One HTTP/1.1 request written byte for byte on a fresh connection (no client adds headers of its own), for
 * tests whose expected output depends on every header the server received, such as a template printing
 * `{{.header}}`. Resolves with the status, the head's headers (names in lower case) and the body, and the local
 * port the request left from (the server's `remote`).
 */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly localPort: number;
}

export function rawRequest(addr: string, head: string, timeoutMs = 10_000): Promise<RawResponse> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    const chunks: Buffer[] = [];
    let localPort = 0;
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      socket.write(head.replace(/\r?\n/g, '\r\n'));
    });
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no response head in ${JSON.stringify(text)}`));
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(end + 4), localPort });
    });
  });
}
