/**
 * What the proxy sends upstream and back: Host and X-Forwarded-* headers, hop-by-hop headers removed in both
 * directions, query merging, trailers, and requests that try to upgrade the connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import {
  type Echo,
  gatewayConfig,
  headerValues,
  type RawUpstream,
  request,
  startRawUpstream,
  startUpstream,
  type Upstream,
} from './upstream.ts';

describe('ReverseProxyHandler forwarding', () => {
  let echo: Upstream;
  let trailers: Upstream;
  let hop: RawUpstream;
  let rogue: RawUpstream;
  let gw: RunningGateway;

  before(async () => {
    echo = await startUpstream('echo');
    trailers = await startUpstream('trailers', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('part1,');
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end('part2');
    });
    hop = await startRawUpstream((_head, socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Hop-Out\r\nX-Hop-Out: secret\r\nKeep-Alive: timeout=5\r\n' +
          'Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nProxy-Connection: keep-alive\r\nX-End: 1\r\n\r\nok',
      );
    });
    // Answers 101 to a request that did not ask to upgrade.
    rogue = await startRawUpstream((_head, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    gw = await startGateway(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
    - pathMatcher: {match: /trailers, matchType: Prefix}
      upstreams: [{url: "${trailers.url}"}]
    - pathMatcher: {match: /hop, matchType: Prefix}
      upstreams: [{url: "${hop.url}"}]
    - pathMatcher: {match: /rogue, matchType: Prefix}
      upstreams: [{url: "${rogue.url}"}]
    - pathMatcher: {match: /q, matchType: Prefix}
      upstreams: [{url: "${echo.url}?fixed=1&b=2"}]
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "${echo.url}"}]
`,
        ),
      ),
    );
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await Promise.all([echo, trailers, hop, rogue].map((u) => u?.close()));
  });

  const echoOf = (body: string) => JSON.parse(body) as Echo;

  /** Writes raw request bytes; resolves with everything the gateway sent until it closed the connection. */
  async function rawExchange(payload: string): Promise<string> {
    const net = await import('node:net');
    const [host, p] = gw.addr.default!.split(':');
    return new Promise<string>((resolve) => {
      const s = net.connect(Number(p), host, () => s.write(payload));
      let t = '';
      s.setEncoding('latin1');
      s.on('data', (d) => {
        t += d;
      });
      s.on('close', () => resolve(t));
    });
  }
  const port = () => gw.addr.default!.split(':').pop()!;

  it('sends the upstream host as Host and sets X-Forwarded-For/-Host/-Proto/-Port', async () => {
    const res = await request(gw.url, '/h', {
      headers: ['Host', 'shop.example:8443', 'X-Forwarded-For', '203.0.113.7', 'X-Forwarded-For', '10.0.0.1'],
    });
    const h = echoOf(res.body).rawHeaders;
    assert.deepEqual(headerValues(h, 'host'), [`127.0.0.1:${echo.port}`]);
    // No forwardedHeaders.trustedProxies: the client's own X-Forwarded-For is replaced by its address
    // (test/e2e/clientaddress/ has the chain of a trusted proxy).
    assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['127.0.0.1'], 'the peer IP only');
    assert.deepEqual(headerValues(h, 'x-forwarded-host'), ['shop.example:8443']);
    assert.deepEqual(headerValues(h, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(
      headerValues(h, 'x-forwarded-port'),
      [port()],
      'the gateway port the client connected to',
    );
  });

  it('replaces client-sent X-Forwarded-Host/-Proto/-Port instead of trusting them', async () => {
    const res = await request(gw.url, '/h', {
      headers: ['X-Forwarded-Host', 'evil', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Port', '1'],
    });
    const h = echoOf(res.body).rawHeaders;
    assert.deepEqual(headerValues(h, 'x-forwarded-host'), [gw.addr.default]);
    assert.deepEqual(headerValues(h, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(headerValues(h, 'x-forwarded-port'), [port()]);
  });

  it('removes hop-by-hop request headers and those named in Connection; keeps TE: trailers', async () => {
    // Raw bytes: Node's client refuses to send a Trailer header on a request without a chunked body.
    const text = await rawExchange(
      'GET /h HTTP/1.1\r\nHost: gw\r\nConnection: close, X-Hop-In\r\nX-Hop-In: secret\r\nKeep-Alive: timeout=5\r\n' +
        'Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\nTE: trailers, deflate\r\n' +
        'Trailer: X-Foo\r\nUpgrade: h2c\r\nX-Keep: yes\r\n\r\n',
    );
    // The body may come chunked; the JSON object is one chunk.
    const h = echoOf(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)).rawHeaders;
    for (const name of [
      'x-hop-in',
      'keep-alive',
      'proxy-authorization',
      'proxy-connection',
      'trailer',
      'upgrade',
    ])
      assert.deepEqual(headerValues(h, name), [], `${name} must not reach the upstream`);
    assert.deepEqual(headerValues(h, 'te'), ['trailers']);
    assert.deepEqual(headerValues(h, 'x-keep'), ['yes']);
    assert.deepEqual(headerValues(h, 'user-agent'), [], 'no User-Agent is invented');
  });

  it('removes hop-by-hop response headers and those named in Connection', async () => {
    const res = await request(gw.url, '/hop');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    for (const name of ['x-hop-out', 'keep-alive', 'proxy-authenticate', 'upgrade', 'proxy-connection'])
      assert.equal(res.headers[name], undefined, `${name} must not reach the client`);
    assert.equal(res.headers['x-end'], '1');
    assert.notEqual(res.headers.connection, 'X-Hop-Out');
  });

  it('relays HEAD responses without a body', async () => {
    const res = await request(gw.url, '/head');
    const head = await request(gw.url, '/head', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-type'], 'application/json');
    assert.ok(res.body.length > 0);
    assert.equal((await request(gw.url, '/after')).status, 200, 'the connection state stays sane');
  });

  it('sends the upstream URL query first, then the request query', async () => {
    assert.equal(echoOf((await request(gw.url, '/q/x?a=1&b=3')).body).url, '/q/x?fixed=1&b=2&a=1&b=3');
    assert.equal(echoOf((await request(gw.url, '/q/x')).body).url, '/q/x?fixed=1&b=2');
    assert.equal(echoOf((await request(gw.url, '/plain?a=1')).body).url, '/plain?a=1');
  });

  it('relays upstream trailers to a client that accepts them', async () => {
    const res = await request(gw.url, '/trailers', { headers: ['TE', 'trailers'] });
    assert.equal(res.body, 'part1,part2');
    assert.equal(res.trailers['x-checksum'], 'abc123');
    assert.equal(res.headers.trailer, 'x-checksum');
  });

  it('serves an HTTP/1.0 client of a trailer-carrying upstream (trailers cannot be sent)', async () => {
    const text = await rawExchange('GET /trailers HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.ok(text.endsWith('part1,part2'), text);
  });

  it('relays an upstream that ignores an Upgrade request as a plain response (WebSocket: test/e2e/protocols)', async () => {
    const res = await request(gw.url, '/ws', {
      headers: [
        'Connection',
        'Upgrade',
        'Upgrade',
        'websocket',
        'Sec-WebSocket-Key',
        'dGhlIHNhbXBsZSBub25jZQ==',
      ],
    });
    assert.equal(res.status, 200);
    const h = echoOf(res.body).rawHeaders;
    assert.deepEqual(headerValues(h, 'upgrade'), ['websocket'], 'the upgrade is asked of the upstream');
    assert.equal(
      res.headers.connection,
      'close',
      'the connection of an upgrade request carries one exchange',
    );
    assert.equal((await request(gw.url, '/after')).status, 200, 'the gateway keeps serving');
  });

  it('answers 502 when an upstream switches protocols unasked, and keeps serving', async () => {
    assert.equal((await request(gw.url, '/rogue')).status, 502);
    assert.equal((await request(gw.url, '/after')).status, 200);
  });
});
