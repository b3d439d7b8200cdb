/**
 * IPFilterMiddleware in a real HTTPServer built from YAML, in this process, on real sockets: IPv4 clients from
 * several loopback addresses, an IPv6 client, IPv4 clients of a dual-stack listener (IPv4-mapped addresses), and
 * clients named by X-Forwarded-For / Forwarded through trusted proxies. The handler behind it answers with the
 * client address the request context computed, so each test shows which client the filter judged.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';
import type { Request, Response } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';

/** Answers 200 with the request's client as the context computed it. */
const ClientHandler = defineResource({
  apiVersion: 'test/v1',
  kind: 'ClientHandler',
  summary: 'answers with the client address',
  spec: Obj({}),
  roles: ['Handler'],
  create: () => ({
    handle: (req: Request, res: Response) => {
      const { address, peer, peerTrusted } = req.ctx.client;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ address, peer, peerTrusted }));
    },
  }),
});

const running: YamlGateway[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

/** The filter `spec` (YAML flow map) on a server at `addr`, with `forwarded` as its forwardedHeaders. */
async function serve(
  spec: string,
  options: { addr?: string; forwarded?: string; h2c?: boolean } = {},
): Promise<YamlGateway> {
  const gw = await serveYaml(
    `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "${options.addr ?? '127.0.0.1:0'}"
  shutdownTimeout: 1
${options.h2c ? '  http2Config: {enableH2C: true}\n' : ''}${options.forwarded ? `  forwardedHeaders: ${options.forwarded}\n` : ''}  middleware: [{apiVersion: app/v1, kind: IPFilterMiddleware}]
  virtualHosts:
    - handlers:
        - handler: {apiVersion: test/v1, kind: ClientHandler}
---
apiVersion: test/v1
kind: ClientHandler
---
apiVersion: app/v1
kind: IPFilterMiddleware
spec: ${spec}
`,
    [ClientHandler],
  );
  running.push(gw);
  return gw;
}

/** Status and, when let through, the client the handler saw. */
async function verdict(gw: YamlGateway, options: Parameters<typeof requestFrom>[1]) {
  const res = await requestFrom(gw.port, options);
  return res.status === 200 ? (JSON.parse(res.body) as { address: string }).address : res.status;
}

describe('IPFilterMiddleware', () => {
  it('lets IPv4 clients in the allow list through and refuses the others with 403', async () => {
    const gw = await serve('{allows: ["127.0.0.2/32", "127.0.1.0/24"]}');
    assert.equal(await verdict(gw, { from: '127.0.0.2' }), '127.0.0.2');
    assert.equal(await verdict(gw, { from: '127.0.1.77' }), '127.0.1.77');
    assert.equal(await verdict(gw, { from: '127.0.0.3' }), 403);
    const refused = await requestFrom(gw.port, {
      from: '127.0.0.1',
      headers: ['Accept', 'application/json'],
    });
    assert.equal(refused.body, '{"status":403,"statusText":"Forbidden"}', 'the status only, no details');
    // The ErrorHandler logs who was refused (a 4xx at debug level).
    const logged = gw.logs.map((l) => JSON.stringify(l)).filter((l) => l.includes('E3230'));
    assert.equal(logged.length, 2);
    assert.match(logged[1]!, /AppMiddleIPFilterRefused.*client address 127\.0\.0\.1 is not allowed/);
  });

  it('refuses a denied client even when the allow list holds it', async () => {
    const gw = await serve('{allows: ["127.0.0.0/8"], denies: ["127.0.0.3"]}');
    assert.equal(await verdict(gw, { from: '127.0.0.2' }), '127.0.0.2');
    assert.equal(await verdict(gw, { from: '127.0.0.3' }), 403);
  });

  it('judges IPv6 clients by IPv6 networks, and IPv4 clients of a dual-stack listener as IPv4', async () => {
    const gw = await serve('{allows: ["::1/128", "127.0.0.2/32"]}', { addr: '[::]:0' });
    assert.equal(await verdict(gw, { host: '::1' }), '::1');
    // Connected to the IPv6 socket from 127.0.0.2: Node reports ::ffff:127.0.0.2, the filter sees 127.0.0.2.
    assert.equal(await verdict(gw, { host: '127.0.0.1', from: '127.0.0.2' }), '127.0.0.2');
    assert.equal(await verdict(gw, { host: '127.0.0.1', from: '127.0.0.3' }), 403);

    const mapped = await serve('{denies: ["::ffff:127.0.0.0/104"]}', { addr: '[::]:0' });
    assert.equal(await verdict(mapped, { host: '127.0.0.1' }), 403, 'a network written IPv4-mapped is IPv4');
    assert.equal(await verdict(mapped, { host: '::1' }), '::1');
  });

  it('judges the client a trusted proxy names in X-Forwarded-For, and ignores the header from anyone else', async () => {
    const gw = await serve('{denies: ["198.51.100.0/24"]}', {
      forwarded: '{trustedProxies: ["127.0.0.2/32", "127.0.0.10/32"]}',
    });
    const xff = (value: string) => ['X-Forwarded-For', value];
    // From the trusted proxy: the rightmost address that is not a trusted proxy is the client.
    assert.equal(await verdict(gw, { from: '127.0.0.2', headers: xff('198.51.100.7') }), 403);
    assert.equal(
      await verdict(gw, { from: '127.0.0.2', headers: xff('198.51.100.7, 203.0.113.5, 127.0.0.10') }),
      '203.0.113.5',
    );
    assert.equal(await verdict(gw, { from: '127.0.0.2', headers: xff('203.0.113.5, 198.51.100.7') }), 403);
    // From a client that is not trusted: its header means nothing, in either direction.
    assert.equal(await verdict(gw, { from: '127.0.0.3', headers: xff('203.0.113.5') }), '127.0.0.3');
    assert.equal(await verdict(gw, { from: '127.0.0.3', headers: xff('198.51.100.7') }), '127.0.0.3');
  });

  it('reads Forwarded instead when the server says so', async () => {
    const gw = await serve('{allows: ["2001:db8::/32"]}', {
      forwarded: '{trustedProxies: ["127.0.0.2"], clientAddressHeader: Forwarded}',
    });
    const fwd = (value: string) => ['Forwarded', value, 'X-Forwarded-For', '198.51.100.7'];
    assert.equal(
      await verdict(gw, { from: '127.0.0.2', headers: fwd('for="[2001:DB8::7]:4711";proto=https') }),
      '2001:db8::7',
    );
    assert.equal(await verdict(gw, { from: '127.0.0.2', headers: fwd('for=192.0.2.1') }), 403);
    assert.equal(
      await verdict(gw, { from: '127.0.0.2', headers: fwd('for=unknown') }),
      403,
      'the proxy itself',
    );
  });

  it('judges HTTP/2 requests the same way, by the client of their connection', async () => {
    const gw = await serve('{allows: ["127.0.0.2"]}', {
      h2c: true,
      forwarded: '{trustedProxies: ["127.0.0.10"]}',
    });
    const h2 = (from: string, headers: Record<string, string> = {}) =>
      new Promise<number | string>((done, fail) => {
        const session = http2.connect(gw.url, {
          createConnection: () => net.connect({ host: '127.0.0.1', port: gw.port, localAddress: from }),
        });
        session.on('error', fail);
        const deadline = setTimeout(() => {
          session.destroy();
          fail(new Error('no HTTP/2 answer within 5 s'));
        }, 5000);
        const stream = session.request({ ':path': '/', ...headers });
        let body = '';
        let status = 0;
        stream.setEncoding('utf8');
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.on('data', (c: string) => {
          body += c;
        });
        stream.on('end', () => {
          clearTimeout(deadline);
          session.close();
          done(status === 200 ? (JSON.parse(body) as { address: string }).address : status);
        });
        stream.on('error', fail);
      });
    assert.equal(await h2('127.0.0.2'), '127.0.0.2');
    assert.equal(await h2('127.0.0.3'), 403);
    assert.equal(await h2('127.0.0.10', { 'x-forwarded-for': '127.0.0.2' }), '127.0.0.2');
  });
});
