/**
 * BodyLimitMiddleware end to end: the gateway started from YAML (HTTP/1.1 and h2c), in front of the reverse proxy
 * and an upstream on 127.0.0.1:0 that hashes the bodies it receives. What a client sees over HTTP/1.1 and HTTP/2
 * (413 by Content-Length, by counting a chunked body, by counting an HTTP/2 stream), what the upstream receives
 * (a body read ahead through a temporary file arrives whole), that temporary files are removed (the client's
 * abort included), and that a 200 MB body leaves the gateway's memory where it was.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';

interface Answer {
  readonly status: number;
  readonly body: string;
}

let upstream: http.Server;
let gw: RunningGateway;
const tempPath = mkdtempSync(join(tmpdir(), 'bodylimit-e2e-'));
const bigTemp = mkdtempSync(join(tmpdir(), 'bodylimit-e2e-big-'));

before(async () => {
  // Answers with the body's length and SHA-256, as it received them.
  upstream = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
    req.on('error', () => {});
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const up = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const server = (name: string, limit: string) => `---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: ${name}}
spec:
  addr: 127.0.0.1:0
  shutdownTimeout: 1
  http2Config: {enableH2C: true}
  middleware: [{apiVersion: app/v1, kind: BodyLimitMiddleware, name: ${limit}}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
`;
  gw = await startGateway(
    writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: small}
    - {apiVersion: core/v1, kind: HTTPServer, name: large}
${server('small', 'small')}${server('large', 'large')}---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${up}"}]
---
apiVersion: app/v1
kind: BodyLimitMiddleware
metadata: {name: small}
spec: {maxSize: 1000, memLimit: 100, tempPath: "${tempPath}"}
---
apiVersion: app/v1
kind: BodyLimitMiddleware
metadata: {name: large}
spec: {maxSize: 314572800, memLimit: 1048576, tempPath: "${bigTemp}"}
`),
    // A busy machine (shared CI) can take more than the default 10 s to start a Node process.
    { servers: 2, timeoutMs: 30_000 },
  );
});

after(async () => {
  await gw?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
});

const url = (server: 'small' | 'large') => `http://${gw.addr[server]}`;

/** An HTTP/1.1 POST of `size` bytes written in `part`-byte pieces, chunked unless `length` says otherwise. */
function post1(
  target: string,
  size: number,
  options: { length?: number; part?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (options.length !== undefined) headers['content-length'] = options.length;
    const req = http.request(target, { method: 'POST', agent: false, headers });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no answer within 60 s')));
    const part = Buffer.alloc(options.part ?? 64 * 1024, 'x');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(part.length, size - sent);
        sent += n;
        if (!req.write(n === part.length ? part : part.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** The same over HTTP/2 (h2c), with or without a content-length header. */
function post2(target: string, size: number, withLength: boolean): Promise<Answer> {
  const session = http2.connect(target);
  session.on('error', () => {});
  return new Promise<Answer>((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': '/h2' };
    if (withLength) headers['content-length'] = size;
    const s = session.request(headers);
    let status = 0;
    let body = '';
    s.setEncoding('utf8');
    s.on('response', (h) => {
      status = Number(h[':status']);
    });
    s.on('data', (c: string) => {
      body += c;
    });
    s.on('close', () => resolve({ status, body }));
    s.on('error', () => {});
    s.setTimeout(30_000, () => reject(new Error('no answer within 30 s')));
    const part = Buffer.alloc(16 * 1024, 'y');
    let sent = 0;
    const pump = () => {
      while (sent < size && !s.destroyed) {
        const n = Math.min(part.length, size - sent);
        sent += n;
        if (!s.write(n === part.length ? part : part.subarray(0, n))) return void s.once('drain', pump);
      }
      if (!s.destroyed) s.end();
    };
    pump();
  }).finally(() => session.close());
}

const sha = (size: number, fill: string) =>
  createHash('sha256').update(Buffer.alloc(size, fill)).digest('hex');
const TooLarge = '{"status":413,"statusText":"Payload Too Large"}';

/** Resident memory of the gateway process, in bytes. */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

describe('BodyLimitMiddleware (gateway from YAML, HTTP/1.1 and HTTP/2)', () => {
  it('answers 413 to a Content-Length over maxSize, over HTTP/1.1 and HTTP/2', async () => {
    assert.deepEqual(await post1(`${url('small')}/cl`, 1001, { length: 1001 }), {
      status: 413,
      body: TooLarge,
    });
    assert.deepEqual(await post2(url('small'), 1001, true), { status: 413, body: TooLarge });
  });

  it('answers 413 when a chunked HTTP/1.1 body or an HTTP/2 stream without length passes maxSize', async () => {
    // Small pieces: the limit passes while the client is still sending, as with a real upload.
    const chunked = await post1(`${url('small')}/chunked`, 4000, { part: 100 }).catch((e: Error) => e);
    if (!(chunked instanceof Error)) assert.deepEqual(chunked, { status: 413, body: TooLarge });
    assert.deepEqual(await post2(url('small'), 4000, false), { status: 413, body: TooLarge });
    // Within the limit, both arrive whole.
    assert.deepEqual(JSON.parse((await post1(`${url('small')}/ok`, 1000, { part: 100 })).body), {
      bytes: 1000,
      sha256: sha(1000, 'x'),
    });
    assert.deepEqual(JSON.parse((await post2(url('small'), 1000, false)).body), {
      bytes: 1000,
      sha256: sha(1000, 'y'),
    });
  });

  it('reads a body over memLimit into a temporary file and gives it to the upstream whole; the file is removed', async () => {
    const one = await post1(`${url('small')}/file`, 900, { length: 900, part: 100 });
    assert.deepEqual(JSON.parse(one.body), { bytes: 900, sha256: sha(900, 'x') });
    const two = await post2(url('small'), 900, true);
    assert.deepEqual(JSON.parse(two.body), { bytes: 900, sha256: sha(900, 'y') });
    await eventually(() => readdirSync(tempPath).length === 0, { what: 'the temporary files are removed' });
  });

  it('removes the temporary file when the client goes away mid-body, over HTTP/1.1 and HTTP/2', async () => {
    const req = http.request(`${url('large')}/abort`, {
      method: 'POST',
      agent: false,
      headers: { 'content-length': 10_000_000 },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(2_000_000, 'a'));
    await eventually(() => readdirSync(bigTemp).length === 1, { what: 'the temporary file is created' });
    req.destroy();
    await eventually(() => readdirSync(bigTemp).length === 0, { what: 'the file is removed (HTTP/1.1)' });

    const session = http2.connect(url('large'));
    session.on('error', () => {});
    const s = session.request({ ':method': 'POST', ':path': '/abort', 'content-length': 10_000_000 });
    s.on('error', () => {});
    s.write(Buffer.alloc(2_000_000, 'b'));
    await eventually(() => readdirSync(bigTemp).length === 1, { what: 'the temporary file is created' });
    s.close(http2.constants.NGHTTP2_CANCEL);
    await eventually(() => readdirSync(bigTemp).length === 0, { what: 'the file is removed (HTTP/2)' });
    session.close();
  });

  it('streams a 200 MB chunked body and reads a 100 MB one ahead into a file with the memory where it was', async () => {
    const pid = gw.child.pid!;
    const baseline = rss(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rss(pid));
    }, 20);
    try {
      const streamed = await post1(`${url('large')}/streamed`, 200 * 1024 * 1024);
      assert.equal(JSON.parse(streamed.body).bytes, 200 * 1024 * 1024);
      const filed = await post1(`${url('large')}/filed`, 100 * 1024 * 1024, { length: 100 * 1024 * 1024 });
      assert.deepEqual(JSON.parse(filed.body), {
        bytes: 100 * 1024 * 1024,
        sha256: sha(100 * 1024 * 1024, 'x'),
      });
    } finally {
      clearInterval(sampler);
    }
    const grew = peak - baseline;
    // Holding either body would pass 100 MB (200 MB; 100 MB on top of what streaming costs). Streaming costs
    // buffers and garbage the collector has not taken yet: 35 to 60 MB here.
    assert.ok(grew < 100 * 1024 * 1024, `the gateway grew by ${Math.round(grew / 1048576)} MB`);
    await eventually(() => readdirSync(bigTemp).length === 0, { what: 'the temporary file is removed' });
  });
});
