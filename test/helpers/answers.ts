/**
 * One GET as a client sees it, over HTTP/1.1 or HTTP/2: the status, the body so far and whether the body ended
 * normally (not cut by a closed connection or a reset stream). For tests of responses the gateway cuts.
 */
import http from 'node:http';
import http2 from 'node:http2';

export interface Answer {
  readonly status: number;
  readonly body: string;
  /** The body ended normally (not cut by a closed connection or a reset stream). */
  readonly complete: boolean;
  readonly ms: number;
}

/** One HTTP/1.1 exchange; `agent` keeps connections (a load test), else a connection of its own. */
export function get1(url: string, agent: http.Agent | false = false, deadlineMs = 10_000): Promise<Answer> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      const finish = (complete: boolean) => () =>
        done({ status: res.statusCode!, body, complete, ms: performance.now() - started });
      res.on('end', finish(true));
      res.on('error', finish(false));
      res.on('aborted', finish(false));
    });
    req.on('error', fail);
    req.setTimeout(deadlineMs, () => req.destroy(new Error(`no answer within ${deadlineMs} ms`)));
  });
}

/** One HTTP/2 exchange on `session`. */
export function get2(session: http2.ClientHttp2Session, path: string, deadlineMs = 10_000): Promise<Answer> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (c: string) => {
      body += c;
    });
    // A stream the server resets closes with a non-zero code instead of ending.
    stream.on('close', () =>
      done({
        status,
        body,
        complete: stream.rstCode === http2.constants.NGHTTP2_NO_ERROR && stream.readableEnded,
        ms: performance.now() - started,
      }),
    );
    stream.on('error', () => {});
    stream.setTimeout(deadlineMs, () => fail(new Error(`no answer within ${deadlineMs} ms`)));
  });
}
