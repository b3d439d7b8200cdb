/**
 * Requests the HTTP/1.1 parser lets through but a gateway must not route or forward, driven with raw sockets
 * against the real gateway in front of a recording upstream: invalid Host values and request targets,
 * absolute-form targets, transfer codings, versions, malformed chunked framing, and the `pathEscapes` policy
 * for encoded slashes, backslashes and encoded dot segments.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { entrypoint, raw } from './helpers.ts';

interface Seen {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  complete: boolean;
}
/** Every request the upstream received, complete (its body ended) or not. */
const seen: Seen[] = [];
let upstream: http.Server;
let gw: RunningGateway;

before(async () => {
  upstream = http.createServer((req, res) => {
    const entry: Seen = { url: req.url ?? '', headers: req.headers, complete: false };
    seen.push(entry);
    req.resume();
    req.on('end', () => {
      entry.complete = true;
      res.end(`upstream saw ${req.url}`);
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const proxyServer = (name: string, policy?: string) => `
---
apiVersion: core/v1
kind: HTTPServer
metadata: {name: ${name}}
spec:
  addr: "127.0.0.1:0"
  httpConfig: {${policy ? `pathEscapes: ${policy}` : ''}}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: ReverseProxyHandler}
`;
  gw = await startGateway(
    writeConfig(`${entrypoint('strict', 'decode', 'keep')}
${proxyServer('strict')}
${proxyServer('decode', 'Decode')}
${proxyServer('keep', 'Keep')}
---
apiVersion: core/v1
kind: ReverseProxyHandler
spec:
  loadBalancers:
    - pathMatcher: {match: "/", matchType: Prefix}
      upstreams: [{url: "${url}"}]
`),
    { servers: 3 },
  );
});

after(async () => {
  await gw?.stop('SIGKILL');
  upstream.closeAllConnections();
  upstream.close();
});

const statusLine = (text: string) => text.split('\r\n')[0];

/** Sends one request that carries a unique marker in its path, and says whether the upstream saw it. */
async function send(server: string, requestLine: string, headers: string, body = '') {
  const res = await raw(gw.addr[server]!, `${requestLine}\r\n${headers}Connection: close\r\n\r\n${body}`);
  return { status: statusLine(res.text), text: res.text, closed: res.closedByServer };
}

describe('Host and request target (RFC 9112 §3.2, RFC 3986): 400, never forwarded', {
  concurrency: true,
}, () => {
  const hosts: Record<string, string> = {
    'a space': 'a b.example',
    'userinfo (@)': 'user@evil.example',
    'a slash': 'evil.example/x',
    'a percent escape': 'evil%2eexample',
    'an unbalanced [': '[::1',
    'a port that is not a number': 'example.com:80x',
    'a NUL-free control char (tab inside)': 'a\tb',
  };
  for (const [name, value] of Object.entries(hosts)) {
    it(`Host with ${name}`, async () => {
      const marker = `/host-${encodeURIComponent(name).replace(/%/g, '')}`;
      const res = await send('strict', `GET ${marker} HTTP/1.1`, `Host: ${value}\r\n`);
      assert.equal(res.status, 'HTTP/1.1 400 Bad Request');
      assert.ok(res.closed);
      assert.ok(!seen.some((s) => s.url === marker), 'not forwarded');
      assert.ok(
        !seen.some((s) => s.headers['x-forwarded-host'] === value),
        'never copied to X-Forwarded-Host',
      );
    });
  }

  it('no Host in an HTTP/1.1 request; an HTTP/1.0 request without Host is served', async () => {
    assert.equal((await send('strict', 'GET /nohost HTTP/1.1', '')).status, 'HTTP/1.1 400 Bad Request');
    assert.equal((await send('strict', 'GET /nohost10 HTTP/1.0', '')).status, 'HTTP/1.1 200 OK');
    assert.ok(!seen.some((s) => s.url === '/nohost'));
  });

  const targets: Record<string, string> = {
    'a bad percent escape': '/t1/a%zz',
    'a truncated percent escape': '/t2/a%4',
    'a double quote': '/t3/a"b',
    'a <': '/t4/<script>',
    'a byte above 0x7F': '/t5/caf\xe9',
    'a fragment': '/t6/a#frag',
    'no leading slash (not a URL either)': 't7/relative',
    'an absolute URL with another scheme': 'ftp://example.com/t8',
    'an absolute URL with userinfo': 'http://user@example.com/t9',
  };
  for (const [name, target] of Object.entries(targets)) {
    it(`a request target with ${name}`, async () => {
      const res = await send('strict', `GET ${target} HTTP/1.1`, 'Host: example.com\r\n');
      assert.equal(res.status, 'HTTP/1.1 400 Bad Request', target);
      assert.doesNotMatch(res.text, /HPE_|Error|at /);
      const id = target.match(/t\d/)![0];
      assert.ok(!seen.some((s) => s.url.includes(id)), 'not forwarded');
    });
  }

  it('serves targets browsers send as they are: [ ] | ^ in paths, { } and the like in queries', async () => {
    const res = await send('strict', 'GET /ok/a[1]|b^?q={x}&r=[y]|`z` HTTP/1.1', 'Host: example.com\r\n');
    assert.equal(res.status, 'HTTP/1.1 200 OK');
    // The proxy escapes what a path may not carry as it is (RFC 3986); the query goes on untouched.
    assert.ok(res.text.endsWith('upstream saw /ok/a%5B1%5D%7Cb%5E?q={x}&r=[y]|`z`'), res.text);
  });
});

describe('absolute-form targets (RFC 9112 §3.2.2)', () => {
  it('are routed by their path, with the Host taken from the target', async () => {
    const res = await send(
      'strict',
      'GET http://API.example.com:8443/abs/a?b=c HTTP/1.1',
      'Host: ignored.example\r\n',
    );
    assert.equal(res.status, 'HTTP/1.1 200 OK');
    assert.match(res.text, /upstream saw \/abs\/a\?b=c$/);
    const s = seen.find((x) => x.url === '/abs/a?b=c');
    assert.equal(s?.headers['x-forwarded-host'], 'API.example.com:8443');
  });

  it('with only an authority, the path is /', async () => {
    const res = await send('strict', 'GET http://example.com HTTP/1.1', 'Host: example.com\r\n');
    assert.equal(res.status, 'HTTP/1.1 200 OK');
    assert.match(res.text, /upstream saw \/$/);
  });
});

describe('framing a proxy cannot pass on', { concurrency: true }, () => {
  it('a transfer coding other than chunked: 501 and the connection closed, nothing forwarded', async () => {
    for (const [i, coding] of ['gzip, chunked', 'deflate,chunked', 'identity, chunked'].entries()) {
      const res = await send(
        'strict',
        `POST /te-${i} HTTP/1.1`,
        `Host: x\r\nTransfer-Encoding: ${coding}\r\n`,
        '3\r\nabc\r\n0\r\n\r\n',
      );
      assert.equal(res.status, 'HTTP/1.1 501 Not Implemented', coding);
      assert.ok(res.closed);
      assert.ok(!seen.some((s) => s.url === `/te-${i}`));
    }
  });

  it('two Transfer-Encoding headers that make gzip, chunked: 501', async () => {
    const res = await send(
      'strict',
      'POST /te-two HTTP/1.1',
      'Host: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n',
      '3\r\nabc\r\n0\r\n\r\n',
    );
    assert.equal(res.status, 'HTTP/1.1 501 Not Implemented');
  });

  it('Transfer-Encoding in an HTTP/1.0 request: 400 (RFC 9112 §6.1)', async () => {
    const res = await send(
      'strict',
      'POST /te-10 HTTP/1.0',
      'Host: x\r\nTransfer-Encoding: chunked\r\n',
      '3\r\nabc\r\n0\r\n\r\n',
    );
    assert.equal(res.status, 'HTTP/1.1 400 Bad Request');
    assert.ok(!seen.some((s) => s.url === '/te-10'));
  });

  const chunked: Record<string, string> = {
    'a chunk size that is not hex': 'zz\r\nabc\r\n0\r\n\r\n',
    'a negative chunk size': '-3\r\nabc\r\n0\r\n\r\n',
    'a chunk size that overflows': 'fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n',
    'chunk data longer than its size': '3\r\nabcdef\r\n0\r\n\r\n',
    'no CRLF after the chunk data': '3\r\nabc0\r\n\r\n',
    'a bare LF after the chunk size': '3\nabc\r\n0\r\n\r\n',
    'whitespace inside the chunk size': '3 3\r\nabc\r\n0\r\n\r\n',
  };
  for (const [name, body] of Object.entries(chunked)) {
    it(`malformed chunked framing, ${name}: 400, closed, nothing completed upstream`, async () => {
      const marker = `/chunk-${encodeURIComponent(name).replace(/%/g, '')}`;
      const res = await send(
        'strict',
        `POST ${marker} HTTP/1.1`,
        'Host: x\r\nTransfer-Encoding: chunked\r\n',
        body,
      );
      assert.equal(res.status, 'HTTP/1.1 400 Bad Request', name);
      assert.ok(res.closed);
      // The upstream may have been sent the head before the bad chunk arrived; it never gets a whole request.
      assert.ok(!seen.some((s) => s.url === marker && s.complete), 'no complete request upstream');
    });
  }
});

describe('versions: 505, never 500', { concurrency: true }, () => {
  for (const version of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/3.0']) {
    it(`GET / ${version}`, async () => {
      const res = await send('strict', `GET /v-${version} ${version}`, 'Host: x\r\n');
      assert.equal(res.status, 'HTTP/1.1 505 HTTP Version Not Supported');
      assert.ok(res.closed);
      assert.ok(!seen.some((s) => s.url === `/v-${version}`));
    });
  }
  it('HTTP/0.9 (a request line without a version)', async () => {
    const res = await raw(gw.addr.strict!, 'GET /v-09\r\n\r\n');
    assert.equal(statusLine(res.text), 'HTTP/1.1 505 HTTP Version Not Supported');
    assert.ok(!seen.some((s) => s.url === '/v-09'));
  });
  it('a method llhttp does not know: 400 (a documented limitation)', async () => {
    const res = await send('strict', 'BREW /pot HTTP/1.1', 'Host: x\r\n');
    assert.equal(res.status, 'HTTP/1.1 400 Bad Request');
  });
});

describe('pathEscapes: encoded slashes, backslashes and encoded dot segments', { concurrency: true }, () => {
  // [path, what Decode forwards, what Keep forwards (undefined: 400, the proxy refuses encoded dot segments)]
  const paths = [
    ['/admin%2Fsecret', '/admin/secret', '/admin%2Fsecret'],
    ['/admin%2fsecret', '/admin/secret', '/admin%2Fsecret'],
    ['/a%5Cb', '/a/b', '/a%5Cb'],
    ['/a\\b', '/a/b', '/a%5Cb'],
    ['/public/%2e%2e/admin', '/admin', undefined],
    ['/public/.%2E/admin', '/admin', undefined],
    ['/public/%2e/x', '/public/x', undefined],
  ] as const;
  for (const [i, [path, decoded, keptAs]] of paths.entries()) {
    it(`${path}: Reject (the default) 400; Decode forwards ${decoded}; Keep ${keptAs ?? '400'}`, async () => {
      const strict = await send('strict', `GET ${path}?s=${i} HTTP/1.1`, 'Host: x\r\n');
      assert.equal(strict.status, 'HTTP/1.1 400 Bad Request');
      assert.ok(!seen.some((s) => s.url.endsWith(`?s=${i}`)), 'Reject: nothing forwarded');
      const decodedRes = await send('decode', `GET ${path}?d=${i} HTTP/1.1`, 'Host: x\r\n');
      assert.equal(decodedRes.status, 'HTTP/1.1 200 OK');
      assert.ok(decodedRes.text.endsWith(`upstream saw ${decoded}?d=${i}`), decodedRes.text);
      const kept = await send('keep', `GET ${path}?k=${i} HTTP/1.1`, 'Host: x\r\n');
      if (keptAs === undefined) {
        assert.equal(kept.status, 'HTTP/1.1 400 Bad Request');
      } else {
        // Keep: routed as one segment holding the slash; sent upstream with the escape kept (upper-cased).
        assert.equal(kept.status, 'HTTP/1.1 200 OK');
        assert.ok(kept.text.endsWith(`upstream saw ${keptAs}?k=${i}`), kept.text);
      }
    });
  }

  it('leaves other escapes alone: %2e inside a name, %20, %41', async () => {
    const res = await send('strict', 'GET /file%2ejson/a%20b/%41 HTTP/1.1', 'Host: x\r\n');
    assert.equal(res.status, 'HTTP/1.1 200 OK');
    // The proxy forwards an equivalent path (RFC 3986 §6.2.2: unreserved characters decoded).
    assert.match(res.text, /upstream saw \/file\.json\/a%20b\/A$/);
  });
});
