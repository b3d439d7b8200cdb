/**
 * Response bodies arrive intact through the proxy under concurrency and backpressure, over HTTP/1.1 and over
 * HTTP/2 with TLS. The proxy frees each upstream read buffer as soon as its bytes are written to the client
 * (src/core/common/readbuffers.ts); a buffer freed too early would show here as a wrong or short body.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makePKI, type TestPKI } from '../../helpers/certs.ts';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { startUpstream, type Upstream } from './upstream.ts';

const Sizes = [10_000, 65_536, 100_003, 300_000, 1_048_576];

/** Deterministic bytes for a size: every request for it must get exactly these. */
function body(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(String(size)).digest();
  for (let i = 0; i < size; i += block.length) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
const bodies = new Map(Sizes.map((n) => [n, body(n)]));
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const expected = new Map(Sizes.map((n) => [n, digest(bodies.get(n)!)]));

describe('response bodies through the proxy', () => {
  let pki: TestPKI;
  let upstream: Upstream;
  let gw: RunningGateway;
  let tlsUpstream: https.Server;
  before(async () => {
    pki = makePKI();
    // /fixed/<size>: Content-Length, written at once; /chunked/<size>: chunked, in uneven pieces over time.
    const serveBodies = (req: http.IncomingMessage, res: http.ServerResponse) => {
      // The last two segments: /tls/fixed/<size> reaches the TLS upstream with its prefix.
      const [kind, size] = req.url!.split('/').slice(-2);
      const data = bodies.get(Number(size))!;
      if (kind === 'fixed') {
        res.writeHead(200, { 'content-length': data.length });
        res.end(data);
        return;
      }
      res.writeHead(200);
      let at = 0;
      const next = () => {
        if (at >= data.length) return void res.end();
        const n = 1 + ((at * 7919) % 40_000);
        res.write(data.subarray(at, at + n));
        at += n;
        setImmediate(next);
      };
      next();
    };
    upstream = await startUpstream('bodies', serveBodies);
    tlsUpstream = https.createServer(
      { cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) },
      serveBodies,
    );
    await new Promise<void>((r) => tlsUpstream.listen(0, '127.0.0.1', r));
    const tlsPort = (tlsUpstream.address() as AddressInfo).port;
    gw = await startGateway(
      writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: plain}
    - {apiVersion: core/v1, kind: HTTPServer, name: h2}
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: plain}
spec:
  addr: "127.0.0.1:0"
  virtualHosts: [{handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]}]
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: h2}
spec:
  addr: "127.0.0.1:0"
  http2Config: {}
  httpConfig:
    listenConfig:
      tlsConfig:
        certKeyPairs: [{certFile: "${pki.server.cert}", keyFile: "${pki.server.key}"}]
  virtualHosts: [{handlers: [{handler: {apiVersion: core/v1, kind: ReverseProxyHandler}}]}]
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: /tls/, matchType: Prefix}
      upstreams: [{url: "https://localhost:${tlsPort}"}]
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${upstream.url}"}]
  roundTripper: {apiVersion: core/v1, kind: HTTPClient}
---
apiVersion: core/v1
kind: HTTPClient
spec:
  httpTransportConfig:
    tlsConfig:
      rootCAs: ["${pki.ca}"]
`),
      { servers: 2 },
    );
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
    await new Promise((r) => tlsUpstream?.close(r));
    pki?.remove();
  });

  /** Every size, fixed and chunked, 4 times; every other request read slowly (pauses force backpressure). */
  const plan = (prefix = '') =>
    Array.from({ length: 4 }, (_, round) =>
      Sizes.flatMap((size) =>
        ['fixed', 'chunked'].map((kind, k) => ({
          path: `${prefix}/${kind}/${size}`,
          size,
          slow: (round + k) % 2 === 1,
        })),
      ),
    ).flat();

  async function overHTTP1(url: string, agent: http.Agent, prefix = ''): Promise<void> {
    const get = url.startsWith('https:') ? https.get : http.get;
    try {
      const got = await Promise.all(
        plan(prefix).map(
          ({ path, size, slow }) =>
            new Promise<[number, string]>((resolve, reject) => {
              get(`${url}${path}`, { agent }, (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => {
                  chunks.push(c);
                  if (slow && chunks.length % 4 === 1) {
                    res.pause();
                    setTimeout(() => res.resume(), 15);
                  }
                });
                res.on('end', () => resolve([size, digest(Buffer.concat(chunks))]));
                res.on('error', reject);
              }).on('error', reject);
            }),
        ),
      );
      for (const [size, sum] of got) assert.equal(sum, expected.get(size), `${size} bytes`);
    } finally {
      agent.destroy();
    }
  }

  it('HTTP/1.1: 40 concurrent responses, half of them read slowly, arrive byte for byte', async () => {
    await overHTTP1(`http://${gw.addr.plain}`, new http.Agent({ keepAlive: true, maxSockets: 16 }));
  });

  it('from an upstream over TLS: the same', async () => {
    await overHTTP1(`http://${gw.addr.plain}`, new http.Agent({ keepAlive: true, maxSockets: 16 }), '/tls');
  });

  it('HTTP/1.1 over TLS: the same', async () => {
    await overHTTP1(
      `https://${gw.addr.h2}`,
      new https.Agent({ keepAlive: true, maxSockets: 16, ca: pki.caPem, ALPNProtocols: ['http/1.1'] }),
    );
  });

  it('HTTP/2 over TLS: 40 concurrent streams on one connection, half read slowly, arrive byte for byte', async () => {
    const session = http2.connect(`https://${gw.addr.h2}`, { ca: pki.caPem });
    try {
      const got = await Promise.all(
        plan().map(
          ({ path, size, slow }) =>
            new Promise<[number, string]>((resolve, reject) => {
              const req = session.request({ ':path': path });
              const chunks: Buffer[] = [];
              req.on('data', async (c: Buffer) => {
                chunks.push(c);
                if (slow && chunks.length % 4 === 1) {
                  req.pause();
                  await sleep(15);
                  req.resume();
                }
              });
              req.on('end', () => resolve([size, digest(Buffer.concat(chunks))]));
              req.on('error', reject);
            }),
        ),
      );
      for (const [size, sum] of got) assert.equal(sum, expected.get(size), `${size} bytes`);
    } finally {
      session.close();
    }
  });
});
