import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientIP, hasToken, type RequestFacts, requestHeaders, responseHeaders } from './headers.ts';

const facts = (): RequestFacts => ({ hasBody: false, clientHost: '', priorXff: '', teTrailers: false });

describe('requestHeaders', () => {
  it('drops hop-by-hop headers and those named in Connection, keeps the rest in order and case', () => {
    const f = facts();
    const out = requestHeaders(
      [
        'Host',
        'gw:8080',
        'Connection',
        'keep-alive, X-Private',
        'Keep-Alive',
        'timeout=5',
        'X-Private',
        'secret',
        'Proxy-Connection',
        'x',
        'Proxy-Authorization',
        'Basic x',
        'Proxy-Authenticate',
        'x',
        'TE',
        'trailers, deflate',
        'Trailer',
        'X-T',
        'Upgrade',
        'websocket',
        'Expect',
        '100-continue',
        'X-Forwarded-Host',
        'forged',
        'X-Forwarded-Proto',
        'forged',
        'X-Forwarded-Port',
        '1',
        'X-Forwarded-For',
        '1.1.1.1',
        'x-forwarded-for',
        '2.2.2.2',
        'Accept',
        'text/plain',
        'Set-Thing',
        'a',
      ],
      f,
    );
    assert.deepEqual(out, ['Accept', 'text/plain', 'Set-Thing', 'a']);
    assert.deepEqual(f, {
      hasBody: false,
      clientHost: 'gw:8080',
      priorXff: '1.1.1.1, 2.2.2.2',
      teTrailers: true,
    });
  });
  it('detects a body from Content-Length or Transfer-Encoding, and drops Transfer-Encoding', () => {
    const a = facts();
    assert.deepEqual(requestHeaders(['Content-Length', '5'], a), ['Content-Length', '5']);
    assert.equal(a.hasBody, true);
    const b = facts();
    assert.deepEqual(requestHeaders(['Transfer-Encoding', 'chunked'], b), []);
    assert.equal(b.hasBody, true);
    const c = facts();
    requestHeaders(['Content-Length', '0'], c);
    assert.equal(c.hasBody, false);
  });
});

describe('responseHeaders', () => {
  it('drops hop-by-hop headers and Connection-named ones; keeps multi-value headers as arrays', () => {
    const out = responseHeaders(
      {
        connection: 'close, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        'proxy-authenticate': 'Basic',
        te: 'trailers',
        trailer: 'x-checksum',
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'text/plain',
      },
      false,
    );
    assert.deepEqual(out, ['set-cookie', ['a=1', 'b=2'], 'content-type', 'text/plain']);
  });
  it('keeps the Trailer announcement when asked', () => {
    assert.deepEqual(responseHeaders({ trailer: 'x-checksum' }, true), ['trailer', 'x-checksum']);
  });
});

describe('helpers', () => {
  it('hasToken is case-insensitive and ignores parameters', () => {
    assert.equal(hasToken('deflate, Trailers;q=1', 'trailers'), true);
    assert.equal(hasToken('trailersx', 'trailers'), false);
  });
  it('clientIP writes IPv4-mapped IPv6 addresses as IPv4', () => {
    assert.equal(clientIP('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(clientIP('::1'), '::1');
    assert.equal(clientIP(undefined), undefined);
  });
});
