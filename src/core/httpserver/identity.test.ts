/**
 * What an HTTPServer reports as its listener's identity: a reload keeps the listener when address and settings
 * are equal (src/reload.ts; the reload itself is covered by src/reload.test.ts and test/e2e/reload).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../kernel/logger.ts';
import { check } from '../../kernel/schema.ts';
import { createDefaultErrorHandler } from '../errhandler/default.ts';
import type { ListenerIdentity, ListenerOwner } from '../listeners.ts';
import { type HTTPServerSpec, resource } from './api.ts';
import { HTTPServer } from './server.ts';

/** The identity of a server created from `spec` (filled with its defaults); it never listens. */
function identityOf(spec: Record<string, unknown>): ListenerIdentity {
  const server: ListenerOwner = new HTTPServer({
    spec: check(resource.spec, spec).value as HTTPServerSpec,
    logger: silentLogger,
    errorHandler: createDefaultErrorHandler(silentLogger),
    middleware: [],
    routes: [],
    fail: (_field, message) => {
      throw new Error(message);
    },
  });
  const identity = server.listenerIdentity();
  assert.ok(identity);
  return identity;
}

describe('HTTPServer.listenerIdentity: what keeps a listener across a reload', () => {
  it('the same address written differently is the same listener; a different bind is not', () => {
    const address = (addr: string) => identityOf({ addr }).address;
    assert.equal(address('localhost:8080'), address('127.0.0.1:8080'));
    assert.equal(address('tcp://127.0.0.1:8080'), address('127.0.0.1:8080'));
    assert.notEqual(address(':8080'), address('0.0.0.0:8080'));
    assert.notEqual(address('127.0.0.1:8080'), address('127.0.0.1:8081'));
    assert.equal(address('unix:///run/gw.sock'), JSON.stringify({ path: '/run/gw.sock' }));
    const viaListenConfig = identityOf({
      addr: ':1',
      httpConfig: { listenConfig: { addr: '127.0.0.1:8080' } },
    });
    assert.equal(viaListenConfig.address, address('127.0.0.1:8080'));
  });

  it('routes, middleware, debug switches and shutdownTimeout are not listener settings; timeouts and TLS are', () => {
    const base = identityOf({ addr: ':8080' }).settings;
    const routing = identityOf({
      addr: ':8080',
      shutdownTimeout: 3,
      enableProfile: true,
      enableExpvar: true,
      virtualHosts: [{ hosts: ['a.example'], handlers: [] }],
    });
    assert.equal(routing.settings, base);
    assert.notEqual(identityOf({ addr: ':8080', httpConfig: { idleTimeout: 5 } }).settings, base);
    assert.notEqual(identityOf({ addr: ':8080', httpConfig: { maxHeaderBytes: 1 } }).settings, base);
    assert.notEqual(identityOf({ addr: ':8080', http2Config: { enableH2C: true } }).settings, base);
  });
});
