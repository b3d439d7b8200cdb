/**
 * StatusPageHandler in a real HTTPServer built from YAML in this process (outside a Gateway: no configuration
 * status, so the page shows what it can). What costs nothing when the page is not configured (issue 15, item 6),
 * allowedNetworks through the server's trusted proxies, and the upstream URL with its credentials left out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serveYaml } from '../../../../test/helpers/yamlgateway.ts';
import type { Handler } from '../../../core/roles.ts';
import { defineResource } from '../../../kernel/resource.ts';
import { Obj } from '../../../kernel/schema.ts';
import type { StatusReport } from './report.ts';
import { withoutSecrets } from './report.ts';

/**
 * A test handler that answers with how many `close` listeners its response has: a feature that hooks the end of
 * the exchange (`ctx.onComplete`) adds one, so the count shows whether anything records the request.
 */
const Probe = defineResource({
  apiVersion: 'test/v1',
  kind: 'CloseListeners',
  summary: 'answers with the number of close listeners on its response',
  spec: Obj({}),
  roles: ['Handler'],
  create(): Handler {
    return {
      handle(_req, res) {
        const body = String(res.listenerCount('close'));
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        res.end(body);
      },
    };
  },
});

function server(options: { middleware?: string; handlers: string; http?: string }): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{ apiVersion: core/v1, kind: HTTPServer }]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0
${options.http ?? ''}
  middleware: [${options.middleware ?? ''}]
  virtualHosts:
    - handlers:
${options.handlers}
---
apiVersion: test/v1
kind: CloseListeners
---
apiVersion: app/v1
kind: StatusPageHandler
spec:
  allowedNetworks: ["10.0.0.0/8"]
`;
}

const probeAt = (pattern: string, middleware = '') =>
  `        - pattern: ${pattern}
          middleware: [${middleware}]
          handler: { apiVersion: test/v1, kind: CloseListeners }
`;
const page = `        - handler: { apiVersion: app/v1, kind: StatusPageHandler }
`;
const statusMiddleware = '{ apiVersion: app/v1, kind: StatusPageHandler }';

async function text(url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(url, init);
  assert.equal(res.status, 200, url);
  return res.text();
}

describe('StatusPageHandler costs nothing where it is not configured (issue 15, item 6)', () => {
  it('a route without its middleware gets no completion hook; one with it gets exactly one', async () => {
    // A server with no status page at all: the baseline.
    const plain = await serveYaml(server({ handlers: probeAt('/plain/') }), [Probe]);
    let baseline: number;
    try {
      baseline = Number(await text(`${plain.url}/plain/x`));
    } finally {
      await plain.close();
    }
    // The page configured, its middleware on one route only.
    const gw = await serveYaml(
      server({ handlers: page + probeAt('/plain/') + probeAt('/counted/', statusMiddleware) }),
      [Probe],
    );
    try {
      assert.equal(Number(await text(`${gw.url}/plain/x`)), baseline, 'nothing hooks a route without it');
      assert.equal(Number(await text(`${gw.url}/counted/x`)), baseline + 1, 'one completion hook');
      const report = JSON.parse(await text(`${gw.url}/status/api`)) as StatusReport;
      assert.deepEqual(
        report.routes.map((r) => [r.route, r.requests]),
        [['/counted/', 1]],
        'outside a Gateway only the routes seen in traffic are listed, and only counted ones are seen',
      );
      assert.equal(report.config, null, 'no configuration status outside a Gateway');
      assert.deepEqual(report.loadBalancers, []);
      assert.equal(report.workers.list[0]?.requests, 1);
    } finally {
      await gw.close();
    }
  });
});

describe('StatusPageHandler access', () => {
  it('admits allowedNetworks and loopback, refuses others with 403, the client as the trusted proxy names it', async () => {
    const gw = await serveYaml(
      server({
        http: '  forwardedHeaders: { trustedProxies: ["127.0.0.0/8"] }',
        handlers: page,
      }),
      [Probe],
    );
    try {
      const from = async (client: string) =>
        (await fetch(`${gw.url}/status/api`, { headers: { 'x-forwarded-for': client } })).status;
      assert.equal(await from('10.20.30.40'), 200, 'in allowedNetworks');
      assert.equal(await from('192.0.2.7'), 403);
      assert.equal(await from('2001:db8::1'), 403);
      assert.equal(await from('::1'), 200, 'IPv6 loopback');
      assert.equal((await fetch(`${gw.url}/status/api`)).status, 200, 'the loopback peer itself');
      const refused = gw.logs.find((l) => JSON.stringify(l).includes('E3310'));
      assert.match(JSON.stringify(refused), /192\.0\.2\.7/, 'the refusal is logged (debug) with the client');
    } finally {
      await gw.close();
    }
  });
});

describe('withoutSecrets', () => {
  it('keeps scheme, host and path; drops user info, query and fragment', () => {
    assert.equal(withoutSecrets('http://u:p@10.0.0.1:8080/base/?token=x#f'), 'http://10.0.0.1:8080/base/');
    assert.equal(withoutSecrets('https://api.example.com'), 'https://api.example.com');
    assert.equal(withoutSecrets('https://api.example.com/'), 'https://api.example.com/');
    assert.equal(withoutSecrets('http://[::1]:9000/x?a=b'), 'http://[::1]:9000/x');
    assert.equal(withoutSecrets('not a url'), '(invalid URL)');
  });
});
