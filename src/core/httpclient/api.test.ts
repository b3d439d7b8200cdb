import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../kernel/logger.ts';
import { ConfigError } from '../../kernel/problems.ts';
import { Registry } from '../../kernel/registry.ts';
import { check, defaults } from '../../kernel/schema.ts';
import { RoundTripperRole } from '../roles.ts';
import { HTTPClient, HTTPTransportConfig, RetryConfig, resource } from './api.ts';
import {
  defaultTransportPlan,
  type HTTPTransportConfigSpec,
  httpTransportPlan,
  NoLimit,
} from './transport.ts';

const ref = { apiVersion: 'core/v1', kind: 'HTTPClient', namespace: 'default', name: 'default' };

function load(spec: string): Registry {
  const registry = new Registry().register(resource);
  registry.loadText('client.yaml', `apiVersion: core/v1\nkind: HTTPClient\nspec:\n${spec}`, {});
  return registry;
}

const failNow = (field: readonly (string | number)[], message: string): never => {
  throw new Error(`${field.join('.')}: ${message}`);
};

describe('core/v1 HTTPClient resource', () => {
  it('is a RoundTripper with no tripperwares, no retry and the default transport by default', async () => {
    assert.deepEqual(resource.roles, ['RoundTripper']);
    assert.deepEqual(defaults(resource.spec), { tripperwares: [], requestTimeout: 0 });
    const registry = load('  {}\n');
    try {
      const client = await registry.get(ref, RoundTripperRole);
      assert.ok(client instanceof HTTPClient);
      assert.equal(typeof client.dispatch, 'function');
      assert.equal(await registry.get(ref, RoundTripperRole), client, 'created once');
    } finally {
      await registry.close();
    }
  });

  it('defaults retryConfig to one retry of requests without a body', () => {
    assert.deepEqual(defaults(RetryConfig), { maxRetry: 1, maxContentLength: 0, retryStatusCodes: [] });
  });

  it('accepts every AILERON field of the transports (and the proto names)', () => {
    const full = {
      tlsConfig: { rootCAs: [], insecureSkipVerify: false, minVersion: 771 },
      tlsHandshakeTimeout: 5000,
      DisableKeepAlives: false,
      disableCompression: true,
      maxIdleConns: 100,
      maxIdleConnsPerHost: 20,
      maxConnsPerHost: 20,
      idleConnTimeout: 10000,
      responseHeaderTimeout: 5000,
      responseBodyIdleTimeout: 0,
      expectContinueTimeout: 1000,
      maxResponseHeaderBytes: 0,
      writeBufferSize: 0,
      readBufferSize: 0,
      allowHTTP2: true,
      dialConfig: { timeout: 1000, fallbackDelay: 300, localAddress: '', replaceTargets: [] },
    };
    assert.deepEqual(check(HTTPTransportConfig, full).problems, []);
    const registry = load(
      '  http2TransportConfig:\n    allowHTTP: true\n    maxHeaderListSize: 1\n    maxReadFrameSize: 16384\n' +
        '    maxDecoderHeaderTableSize: 4096\n    maxEncoderHeaderTableSize: 4096\n    strictMaxConcurrentStreams: true\n' +
        '    idleConnTimeout: 1\n    readIdleTimeout: 1\n    pingTimeout: 1\n    writeByteTimeout: 1\n' +
        '    multiIPConnPool: true\n    minLookupInterval: 2000\n    disableCompression: true\n',
    );
    assert.ok(registry.manifest('core/v1/HTTPClient/default/default'));
  });

  it('rejects a negative HTTP/2 setting and unknown fields with a suggestion', () => {
    assert.throws(
      () => load('  http2TransportConfig:\n    maxReadFrameSize: -1\n  retryConfig:\n    maxRetries: 3\n'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /client\.yaml:5:23: spec\.http2TransportConfig\.maxReadFrameSize: number out of range/,
        );
        assert.match(
          err.message,
          /client\.yaml:7:5: spec\.retryConfig\.maxRetries: unknown field "maxRetries"/,
        );
        assert.match(err.message, /did you mean "maxRetry"\?/);
        return true;
      },
    );
  });
});

describe('transport plans', () => {
  const ctx = { fail: failNow, logger: silentLogger, env: {} };
  const cfg = (over: Partial<HTTPTransportConfigSpec> = {}): HTTPTransportConfigSpec => ({
    ...(check(HTTPTransportConfig, {}).value as HTTPTransportConfigSpec),
    ...over,
  });

  it('maps an empty httpTransportConfig to AILERON semantics: 0 = no limit', () => {
    const plan = httpTransportPlan(cfg(), ['spec', 'httpTransportConfig'], ctx);
    assert.deepEqual(plan.pool, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: NoLimit,
      keepAliveMaxTimeout: NoLimit,
      headersTimeout: 0,
      bodyTimeout: 0,
      maxHeaderSize: 1 << 20,
      allowH2: false,
    });
    assert.equal(plan.dial.httpTimeout, 0);
    assert.equal(plan.dial.httpsTimeout, 0);
    assert.equal(plan.proxy, undefined);
  });

  it('maps the settings onto undici options', () => {
    const plan = httpTransportPlan(
      cfg({
        disableKeepAlives: true,
        maxConnsPerHost: 8,
        idleConnTimeout: 9000,
        responseHeaderTimeout: 1500,
        responseBodyIdleTimeout: 2500,
        maxResponseHeaderBytes: 65536,
        allowHTTP2: true,
        tlsHandshakeTimeout: 3000,
        dialConfig: {
          timeout: 2000,
          fallbackDelay: 150,
          localAddress: 'tcp://127.0.0.1:0',
          replaceTargets: [],
          keepAliveConfig: { disable: false, idle: 20, interval: 15, count: 9 },
        },
      }),
      ['spec', 'httpTransportConfig'],
      ctx,
    );
    assert.deepEqual(plan.pool, {
      connections: 8,
      pipelining: 0,
      keepAliveTimeout: 9000,
      keepAliveMaxTimeout: 9000,
      headersTimeout: 1500,
      bodyTimeout: 2500,
      maxHeaderSize: 65536,
      allowH2: true,
      localAddress: '127.0.0.1',
      autoSelectFamily: true,
      autoSelectFamilyAttemptTimeout: 150,
    });
    assert.equal(plan.dial.httpTimeout, 2000);
    assert.equal(plan.dial.httpsTimeout, 5000, 'dial + TLS handshake');
    assert.equal(plan.dial.preferH2, true);
    assert.equal(plan.dial.keepAliveInitialDelay, 20_000);
  });

  it('reads the proxy variables it is given', () => {
    const plan = httpTransportPlan(cfg(), ['spec'], { ...ctx, env: { HTTP_PROXY: 'http://p:3128' } });
    assert.equal(plan.proxy?.httpProxy?.host, 'p:3128');
    assert.throws(
      () => httpTransportPlan(cfg(), ['spec'], { ...ctx, env: { HTTP_PROXY: 'gopher://p' } }),
      /spec: HTTP_PROXY=gopher:\/\/p uses the scheme gopher/,
    );
  });

  it('follows AILERON’s built-in default transport', () => {
    const plan = defaultTransportPlan({});
    assert.equal(plan.pool.allowH2, false, 'HTTP/1.1 only');
    assert.equal(plan.pool.connections, null, 'no limit per upstream');
    assert.equal(plan.pool.keepAliveTimeout, 60_000, 'idle connections closed after 60 s');
    assert.equal(plan.pool.headersTimeout, 300_000);
    assert.equal(plan.dial.httpTimeout, 10_000, 'dial 10 s');
    assert.equal(plan.dial.httpsTimeout, 20_000, 'dial 10 s + TLS handshake 10 s');
    assert.equal(plan.dial.keepAliveInitialDelay, 30_000, 'TCP keep-alive 30 s');
    assert.equal(plan.proxy, undefined);
    assert.ok(defaultTransportPlan({ HTTPS_PROXY: 'http://p:1' }).proxy);
  });
});
