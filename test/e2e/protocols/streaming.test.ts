/**
 * Long and streamed responses through the gateway: server-sent events arrive one by one as the upstream sends
 * them, over HTTP/1.1 and HTTP/2, for longer than readTimeout and idleTimeout (which bound receiving the request
 * and idle connections, never a response in progress); `Expect: 100-continue`; trailers to HTTP/2 clients.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { entrypoint, h2request, h2session, httpUpstream, sseData, sseHandler, urlOf } from './helpers.ts';

const Events = 10;
const EveryMs = 300; // 10 events over 3 s: three times readTimeout and idleTimeout (1 s)

// The streams take seconds each: they run side by side.
describe('streaming through the gateway', { concurrency: true }, () => {
  let upstream: Awaited<ReturnType<typeof httpUpstream>>;
  let gw: RunningGateway;
  const sessions: http2.ClientHttp2Session[] = [];
  /** What the upstream saw of `Expect: 100-continue` requests. */
  let expectSeen: string | undefined;

  before(async () => {
    const sse = sseHandler(Events, EveryMs);
    upstream = await httpUpstream((req, res) => {
      if (req.url!.startsWith('/events')) return sse(req, res);
      if (req.url === '/pause') {
        // One byte, 2.5 s of silence (longer than every timeout configured), then the rest.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a');
        const timer = setTimeout(() => res.end('b'), 2500);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('part1,');
        res.addTrailers({ 'x-checksum': 'abc123' });
        res.end('part2');
        return;
      }
      // Echo the body length; remember whether Expect reached the upstream.
      expectSeen = req.headers.expect;
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(`received ${n} bytes`));
    });
    gw = await startGateway(
      writeConfig(`${entrypoint()}---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
  httpConfig: {readTimeout: 1, readHeaderTimeout: 1, idleTimeout: 1, writeTimeout: 1}
  http2Config: {enableH2C: true, idleTimeout: 1}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
`),
    );
  });

  after(async () => {
    for (const s of sessions) s.destroy();
    await gw?.stop('SIGKILL');
    await upstream?.close();
  });

  /** GET over HTTP/1.1, recording when each chunk arrives. */
  function get1(
    path: string,
  ): Promise<{ status: number; text: string; times: number[]; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.get(`${urlOf(gw)}${path}`, { agent: false }, (res) => {
        let text = '';
        const times: number[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          times.push(performance.now() - started);
        });
        res.on('end', () => resolve({ status: res.statusCode!, text, times, headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  /** The events arrived one by one as sent: spread over the stream's life, not in one burst at the end. */
  function assertSpread(times: number[], what: string) {
    const first = times[0]!;
    const last = times.at(-1)!;
    assert.ok(times.length >= Events, `${what}: ${times.length} chunks for ${Events} events (buffered?)`);
    assert.ok(first < 1000, `${what}: the first event after ${first} ms`);
    assert.ok(last - first >= (Events - 3) * EveryMs, `${what}: events from ${first} to ${last} ms`);
  }

  it('streams server-sent events over HTTP/1.1 one by one, for longer than readTimeout and idleTimeout', async () => {
    const res = await get1('/events/h1');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.deepEqual(
      sseData(res.text),
      Array.from({ length: Events }, (_, i) => String(i)),
    );
    assertSpread(res.times, 'HTTP/1.1');
  });

  it('streams server-sent events over HTTP/2 one by one; an open stream is not an idle session', async () => {
    const s = await h2session(urlOf(gw));
    sessions.push(s);
    let goaway = false;
    s.on('goaway', () => {
      goaway = true;
    });
    const res = await h2request(s, { ':path': '/events/h2' });
    assert.equal(res.status, 200);
    assert.deepEqual(
      sseData(String(res.body)),
      Array.from({ length: Events }, (_, i) => String(i)),
    );
    // Node may merge data frames that arrive together into one chunk; the times still show the spread.
    const times = res.chunkTimes.filter((_, i) => String(res.chunks[i]).includes('data: '));
    assertSpread(times, 'HTTP/2');
    assert.equal(goaway, false, 'no GOAWAY while the stream was open');
  });

  it('does not cut a response that stays silent for longer than every timeout', async () => {
    const s = await h2session(urlOf(gw));
    sessions.push(s);
    const [h1, h2] = await Promise.all([get1('/pause'), h2request(s, { ':path': '/pause' })]);
    assert.equal(h1.text, 'ab');
    assert.ok(h1.times.at(-1)! >= 2400);
    assert.equal(String(h2.body), 'ab');
    assert.ok(h2.chunkTimes.at(-1)! >= 2400);
  });

  it('answers `Expect: 100-continue` with 100 Continue and forwards the body (without Expect)', async () => {
    const body = Buffer.alloc(100_000, 1);
    const result = await new Promise<{ continued: boolean; text: string; status: number }>(
      (resolve, reject) => {
        let continued = false;
        const req = http.request(`${urlOf(gw)}/upload`, {
          method: 'PUT',
          agent: false,
          headers: { expect: '100-continue', 'content-length': body.length },
        });
        // The body is sent only once the gateway says to go on.
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ continued, text, status: res.statusCode! }));
        });
        req.on('error', reject);
        req.flushHeaders();
      },
    );
    assert.equal(result.continued, true);
    assert.equal(result.status, 200);
    assert.equal(result.text, 'received 100000 bytes');
    assert.equal(expectSeen, undefined, 'the gateway answered the expectation; the upstream gets none');
  });

  it('resets an HTTP/2 request whose body has not arrived within readTimeout (the response may take longer)', async () => {
    const s = await h2session(urlOf(gw));
    sessions.push(s);
    const started = performance.now();
    const stream = s.request({ ':method': 'POST', ':path': '/upload' });
    stream.on('error', () => {});
    stream.write('the start of a body that never ends');
    stream.resume();
    await new Promise((resolve) => stream.once('close', resolve));
    const waited = performance.now() - started;
    assert.equal(stream.rstCode, http2.constants.NGHTTP2_CANCEL);
    assert.ok(waited >= 900 && waited < 5000, `reset after ${waited} ms (readTimeout 1 s)`);
  });

  it('relays trailers of a chunked HTTP/1.1 upstream to an HTTP/2 client', async () => {
    const s = await h2session(urlOf(gw));
    sessions.push(s);
    const res = await h2request(s, { ':path': '/trailers', te: 'trailers' });
    assert.equal(String(res.body), 'part1,part2');
    assert.equal(res.trailers['x-checksum'], 'abc123');
    assert.equal(res.headers.trailer, 'x-checksum');
  });
});
