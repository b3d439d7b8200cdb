import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayError } from '../../kernel/errors.ts';
import type { Request, Response } from '../roles.ts';
import { cleanPath, Router } from './router.ts';

interface Outcome {
  readonly served?: string;
  readonly params?: Record<string, string> | undefined;
  readonly status?: number | undefined;
  readonly location?: string | undefined;
  readonly allow?: string;
}

function serve(router: Router, method: string, url: string, host = 'example.com'): Outcome {
  const req = { method, url, headers: { host }, params: undefined } as unknown as Request;
  let outcome: Outcome = {};
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      outcome = { status, location: headers.location };
    },
    end() {},
  } as unknown as Response;
  try {
    const r = router.handle(req, res);
    if (typeof r === 'string') outcome = { served: r, params: req.params };
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    outcome = { status: err.status, ...(err.headers?.allow ? { allow: err.headers.allow } : {}) };
  }
  return outcome;
}

/** A router whose handlers return their own name, so the test sees which one served. */
function routerOf(
  routes: Array<[pattern: string, name: string, methods?: string[], hosts?: string[]]>,
): Router {
  const router = new Router();
  for (const [pattern, name, methods = [], hosts = []] of routes) {
    router.add({ pattern, hosts, methods, handler: (() => name) as never });
  }
  return router;
}

describe('Router', () => {
  it('matches exact paths and subtrees, most specific first', () => {
    const r = routerOf([
      ['/', 'root'],
      ['/api/', 'api-tree'],
      ['/api/users', 'users'],
      ['/api/users/{id}', 'user'],
    ]);
    assert.equal(serve(r, 'GET', '/').served, 'root');
    assert.equal(serve(r, 'GET', '/anything/else').served, 'root');
    assert.equal(serve(r, 'GET', '/api/').served, 'api-tree');
    assert.equal(serve(r, 'GET', '/api/other').served, 'api-tree');
    assert.equal(serve(r, 'GET', '/api/users').served, 'users');
    assert.deepEqual(serve(r, 'GET', '/api/users/42?x=1'), { served: 'user', params: { id: '42' } });
  });

  it('redirects a slash-less request to a subtree, keeping the query', () => {
    const r = routerOf([['/docs/', 'docs']]);
    assert.deepEqual(serve(r, 'GET', '/docs?page=2'), { status: 301, location: '/docs/?page=2' });
  });

  it('redirects unclean paths to the cleaned path', () => {
    const r = routerOf([['/', 'root']]);
    assert.deepEqual(serve(r, 'GET', '/a//b/../c?q'), { status: 301, location: '/a/c?q' });
    assert.equal(cleanPath('/a/./b/'), '/a/b/');
  });

  it('captures {name...} rest wildcards and honours {$}', () => {
    const r = routerOf([
      ['/files/{path...}', 'files'],
      ['/exact/{$}', 'exact'],
    ]);
    assert.deepEqual(serve(r, 'GET', '/files/a/b/c.txt'), { served: 'files', params: { path: 'a/b/c.txt' } });
    assert.equal(serve(r, 'GET', '/exact/').served, 'exact');
    assert.equal(serve(r, 'GET', '/exact/more').status, 404);
  });

  it('answers 404 for no route and 405 with Allow for a route without the method', () => {
    const r = routerOf([
      ['/items', 'list', ['GET']],
      ['/items', 'create', ['POST']],
    ]);
    assert.equal(serve(r, 'GET', '/items').served, 'list');
    assert.equal(serve(r, 'POST', '/items').served, 'create');
    assert.equal(serve(r, 'HEAD', '/items').served, 'list', 'HEAD is served by the GET handler');
    assert.deepEqual(serve(r, 'DELETE', '/items'), { status: 405, allow: 'GET, HEAD, POST' });
    assert.equal(serve(r, 'GET', '/nothing').status, 404);
  });

  it('accepts a method prefix in the pattern', () => {
    const r = routerOf([['GET /items/{id}', 'get-item']]);
    assert.deepEqual(serve(r, 'GET', '/items/7'), { served: 'get-item', params: { id: '7' } });
    assert.equal(serve(r, 'PUT', '/items/7').status, 405);
  });

  it('prefers host-specific routes and matches wildcard hosts, ignoring the port', () => {
    const r = routerOf([
      ['/', 'any'],
      ['/', 'api', [], ['api.example.com']],
      ['/', 'tenant', [], ['*.tenants.example.com']],
    ]);
    assert.equal(serve(r, 'GET', '/', 'api.example.com:8443').served, 'api');
    assert.equal(serve(r, 'GET', '/', 'a.tenants.example.com').served, 'tenant');
    assert.equal(serve(r, 'GET', '/', 'tenants.example.com').served, 'any');
    assert.equal(serve(r, 'GET', '/', 'other.org').served, 'any');
  });

  it('rejects two handlers for the same pattern and method at start-up', () => {
    const r = new Router();
    r.add({ pattern: '/x', hosts: [], methods: [], handler: () => {} });
    assert.throws(
      () => r.add({ pattern: '/x', hosts: [], methods: [], handler: () => {} }),
      /two handlers are registered for \/x/,
    );
    const m = new Router();
    m.add({ pattern: '/x', hosts: [], methods: ['GET'], handler: () => {} });
    assert.doesNotThrow(() => m.add({ pattern: '/x', hosts: [], methods: ['POST'], handler: () => {} }));
  });

  it('rejects malformed wildcards with a message', () => {
    const r = new Router();
    assert.throws(
      () => r.add({ pattern: '/a{b}', hosts: [], methods: [], handler: () => {} }),
      /must be a whole segment/,
    );
    assert.throws(
      () => r.add({ pattern: '/{x...}/y', hosts: [], methods: [], handler: () => {} }),
      /must be the last segment/,
    );
  });
});
