import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientAddress } from '../common/clientaddress.ts';
import {
  forwardingHeaders,
  hasToken,
  type RequestFacts,
  requestHeaders,
  responseHeaders,
} from './headers.ts';

const facts = (): RequestFacts => ({
  hasBody: false,
  clientHost: '',
  priorXff: '',
  priorForwarded: '',
  priorXfHost: '',
  priorXfProto: '',
  priorXfPort: '',
  teTrailers: false,
});

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
        'Forwarded',
        'for=1.1.1.1',
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
      priorForwarded: 'for=1.1.1.1',
      priorXfHost: 'forged',
      priorXfProto: 'forged',
      priorXfPort: '1',
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
});

describe('forwardingHeaders', () => {
  const sent = (): RequestFacts => ({
    ...facts(),
    clientHost: 'shop.example',
    priorXff: '198.51.100.9',
    priorForwarded: 'for=198.51.100.9',
    priorXfHost: 'forged.example',
    priorXfProto: 'https',
    priorXfPort: '1',
  });
  const own = { proto: 'http', port: 8080 };

  it('replaces every forwarding header a peer that is not trusted sent', () => {
    const out: string[] = [];
    forwardingHeaders(out, sent(), new ClientAddress('2001:db8::7', '2001:db8::7', false), own);
    assert.deepEqual(out, [
      'x-forwarded-for',
      '2001:db8::7',
      'x-forwarded-port',
      '8080',
      'x-forwarded-host',
      'shop.example',
      'x-forwarded-proto',
      'http',
      'forwarded',
      'for="[2001:db8::7]";host=shop.example;proto=http',
    ]);
  });

  it('keeps the chain of a trusted proxy and appends this hop', () => {
    const out: string[] = [];
    forwardingHeaders(out, sent(), new ClientAddress('198.51.100.9', '10.0.0.2', true), own);
    assert.deepEqual(out, [
      'x-forwarded-for',
      '198.51.100.9, 10.0.0.2',
      'x-forwarded-port',
      '1',
      'x-forwarded-host',
      'forged.example',
      'x-forwarded-proto',
      'https',
      'forwarded',
      'for=198.51.100.9, for=10.0.0.2;host=shop.example;proto=http',
    ]);
  });

  it('sends no Forwarded when none came, and no X-Forwarded-For/-Port without a peer address', () => {
    const out: string[] = [];
    forwardingHeaders(out, { ...facts(), clientHost: 'gw' }, new ClientAddress('', '', false), own);
    assert.deepEqual(out, ['x-forwarded-host', 'gw', 'x-forwarded-proto', 'http']);
  });
});
