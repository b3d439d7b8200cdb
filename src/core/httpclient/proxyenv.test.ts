import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noProxyMatcher, ProxyEnvError, proxyEnvironment } from './proxyenv.ts';

describe('proxyEnvironment', () => {
  it('is undefined when no proxy variable is set (NO_PROXY alone changes nothing)', () => {
    assert.equal(proxyEnvironment({}), undefined);
    assert.equal(proxyEnvironment({ NO_PROXY: 'example.com', HTTP_PROXY: '' }), undefined);
  });

  it('prefers the upper-case names and keeps http and https apart', () => {
    const env = proxyEnvironment({
      HTTP_PROXY: 'http://upper:3128',
      http_proxy: 'http://lower:3128',
      https_proxy: 'https://secure:443',
    })!;
    assert.equal(env.httpProxy?.href, 'http://upper:3128/');
    assert.equal(env.httpsProxy?.href, 'https://secure/');
    assert.deepEqual(env.source, { http: 'HTTP_PROXY', https: 'https_proxy' });
    const onlyHttp = proxyEnvironment({ HTTP_PROXY: 'http://p:1' })!;
    assert.equal(onlyHttp.httpsProxy, undefined, 'no fall-back from HTTPS_PROXY to HTTP_PROXY (as in Go)');
  });

  it('reads a proxy without a scheme as http://, and rejects other schemes', () => {
    assert.equal(
      proxyEnvironment({ HTTP_PROXY: 'proxy.corp:3128' })!.httpProxy?.href,
      'http://proxy.corp:3128/',
    );
    assert.equal(proxyEnvironment({ HTTP_PROXY: 'user:pw@proxy:8080' })!.httpProxy?.username, 'user');
    assert.equal(proxyEnvironment({ HTTPS_PROXY: 'socks5://s:1080' })!.httpsProxy?.protocol, 'socks5:');
    assert.throws(
      () => proxyEnvironment({ HTTPS_PROXY: 'ftp://x:21' }),
      (e: unknown) =>
        e instanceof ProxyEnvError && e.variable === 'HTTPS_PROXY' && /scheme ftp/.test(e.message),
    );
  });
});

describe('noProxyMatcher', () => {
  it('never proxies localhost and loopback addresses', () => {
    const bypass = noProxyMatcher('');
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      assert.equal(bypass(host, '80'), true, host);
    }
    assert.equal(bypass('example.com', '80'), false);
    assert.equal(bypass('10.0.0.1', '80'), false);
  });

  it('matches domains with their subdomains, and leading-dot or *. entries without the apex', () => {
    const bypass = noProxyMatcher(' Example.COM , .internal, *.svc.local ');
    assert.equal(bypass('example.com', '443'), true);
    assert.equal(bypass('api.example.com', '443'), true);
    assert.equal(bypass('notexample.com', '443'), false);
    assert.equal(bypass('internal', '80'), false);
    assert.equal(bypass('db.internal', '80'), true);
    assert.equal(bypass('svc.local', '80'), false);
    assert.equal(bypass('a.svc.local', '80'), true);
  });

  it('matches ports when an entry has one', () => {
    const bypass = noProxyMatcher('example.com:8080,10.0.0.5:443,[2001:db8::1]:443');
    assert.equal(bypass('example.com', '8080'), true);
    assert.equal(bypass('example.com', '80'), false);
    assert.equal(bypass('10.0.0.5', '443'), true);
    assert.equal(bypass('10.0.0.5', '80'), false);
    assert.equal(bypass('2001:db8::1', '443'), true);
    assert.equal(bypass('2001:db8:0::1', '443'), true, 'IPv6 compared in canonical form');
  });

  it('matches IP addresses and CIDR ranges', () => {
    const bypass = noProxyMatcher('192.168.0.0/16,10.1.2.3,fd00::/8');
    assert.equal(bypass('192.168.44.1', '80'), true);
    assert.equal(bypass('192.169.0.1', '80'), false);
    assert.equal(bypass('10.1.2.3', '80'), true);
    assert.equal(bypass('fd12::1', '80'), true);
    assert.equal(bypass('fe80::1', '80'), false);
  });

  it('bypasses everything with *, and ignores malformed entries', () => {
    assert.equal(noProxyMatcher('example.com,*')('anything.org', '80'), true);
    const bypass = noProxyMatcher(',, :80, 1.2.3.4/99, .');
    assert.equal(bypass('example.com', '80'), false);
  });
});
