import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PatternError } from '../../../core/common/match.ts';
import { requestedHeaders } from './headers.ts';
import { isOrigin, OriginMatcher, readOriginEntry } from './origin.ts';

const matcher = (
  allowedOrigins: string[],
  allowedOriginPatterns: string[] = [],
  disableWildCardOrigin = false,
) => new OriginMatcher({ allowedOrigins, allowedOriginPatterns, disableWildCardOrigin });

describe('isOrigin', () => {
  it('accepts what browsers send', () => {
    for (const o of [
      'http://localhost:3000',
      'https://app.example.com',
      'http://127.0.0.1:8080',
      'http://[::1]:8080',
      'https://xn--bcher-kva.example',
      'chrome-extension://abcdefghijklmnop',
    ]) {
      assert.ok(isOrigin(o), o);
    }
  });

  it('refuses paths, userinfo, upper case, spaces, null and overlong values', () => {
    for (const o of [
      'null',
      '',
      'http://example.com/',
      'http://user@example.com',
      'HTTP://example.com',
      'http://Example.com',
      'http://example.com:123456',
      'http://exa mple.com',
      'http://example.com\t',
      'example.com',
      `https://${'a'.repeat(300)}.com`,
    ]) {
      assert.equal(isOrigin(o), false, JSON.stringify(o));
    }
  });
});

describe('readOriginEntry', () => {
  it('normalises scheme, host and default ports as browsers do', () => {
    assert.deepEqual(readOriginEntry('HTTPS://App.Example.COM:443'), {
      type: 'exact',
      origin: 'https://app.example.com',
    });
    assert.deepEqual(readOriginEntry('http://localhost:08080'), {
      type: 'exact',
      origin: 'http://localhost:8080',
    });
    assert.deepEqual(readOriginEntry('*'), { type: 'any' });
    assert.deepEqual(readOriginEntry('null'), { type: 'exact', origin: 'null' });
    assert.deepEqual(readOriginEntry('https://*.example.com'), {
      type: 'wildcard',
      scheme: 'https',
      suffix: '.example.com',
      port: '',
    });
  });

  it('refuses what cannot be an origin, with the fix', () => {
    const cases: [string, RegExp][] = [
      ['http://localhost:8080/', /has a path.*write http:\/\/localhost:8080/s],
      ['example.com', /scheme:\/\/host/],
      ['https://a.*.example.com', /leftmost labels/],
      ['https://*example.com', /leftmost labels/],
      ['http://host:99999', /out of range/],
      ['http://user@host', /path, query or userinfo/],
      ['http://', /host or port is malformed/],
    ];
    for (const [entry, message] of cases) {
      assert.throws(
        () => readOriginEntry(entry),
        (err: unknown) => err instanceof PatternError && message.test(`${err.message} ${err.hint}`),
        entry,
      );
    }
  });
});

describe('OriginMatcher', () => {
  it('answers a listed origin with itself, others with nothing', () => {
    const m = matcher(['http://localhost:8080', 'HTTP://Example.com']);
    assert.equal(m.allow('http://localhost:8080'), 'http://localhost:8080');
    assert.equal(m.allow('http://example.com'), 'http://example.com');
    assert.equal(m.allow('http://localhost:8081'), undefined);
    assert.equal(m.allow('http://evil.test'), undefined);
    assert.equal(m.allow('null'), undefined);
  });

  it('"*" answers "*" for any value, or the origin itself under disableWildCardOrigin (never null or garbage)', () => {
    assert.equal(matcher(['*']).allow('http://a.test'), '*');
    assert.equal(matcher(['*']).allow('null'), '*');
    assert.ok(matcher(['*']).answersStar);
    const reflect = matcher(['*'], [], true);
    assert.equal(reflect.allow('http://a.test'), 'http://a.test');
    assert.equal(reflect.allow('null'), undefined);
    assert.equal(reflect.allow('http://a.test/path'), undefined);
    // A listed origin is named even beside "*" (so it can carry credentials).
    assert.equal(matcher(['http://a.test', '*']).allow('http://a.test'), 'http://a.test');
    assert.equal(matcher(['http://a.test', '*']).allow('http://b.test'), '*');
  });

  it('"null" is allowed only when listed', () => {
    assert.equal(matcher(['null']).allow('null'), 'null');
  });

  it('a wildcard entry allows subdomains at any depth, with the same scheme and port, not the domain itself', () => {
    const m = matcher(['https://*.example.com', 'http://*.local.test:3000']);
    assert.equal(m.allow('https://app.example.com'), 'https://app.example.com');
    assert.equal(m.allow('https://a.b.example.com'), 'https://a.b.example.com');
    assert.equal(m.allow('https://example.com'), undefined);
    assert.equal(m.allow('http://app.example.com'), undefined);
    assert.equal(m.allow('https://app.example.com:8443'), undefined);
    assert.equal(m.allow('https://evilexample.com'), undefined);
    assert.equal(m.allow('https://app.example.com.evil.test'), undefined);
    assert.equal(m.allow('http://x.local.test:3000'), 'http://x.local.test:3000');
    assert.equal(m.allow('http://x.local.test'), undefined);
  });

  it('patterns are RE2 expressions matched against the whole origin', () => {
    const m = matcher([], ['https://pr-[0-9]+\\.preview\\.example\\.com', 'http://localhost:(3000|5173)']);
    assert.equal(m.allow('https://pr-42.preview.example.com'), 'https://pr-42.preview.example.com');
    assert.equal(m.allow('https://pr-42.preview.example.com.evil.test'), undefined, 'anchored at the end');
    assert.equal(
      m.allow('http://evil.test#https://pr-1.preview.example.com'),
      undefined,
      'anchored at the start',
    );
    assert.equal(m.allow('http://localhost:5173'), 'http://localhost:5173');
    assert.equal(m.allow('http://localhost:8080'), undefined);
  });
});

describe('requestedHeaders', () => {
  it('reads the list browsers send, lower-cased, and refuses anything else', () => {
    assert.equal(requestedHeaders('content-type,x-custom'), 'content-type,x-custom');
    assert.equal(requestedHeaders(' X-A , x-b,,'), 'x-a,x-b');
    assert.equal(requestedHeaders(''), undefined);
    assert.equal(requestedHeaders('x-a, bad header'), undefined);
    assert.equal(requestedHeaders('x-a;x-b'), undefined);
    assert.equal(requestedHeaders(`x-${'a'.repeat(5000)}`), undefined);
  });
});
