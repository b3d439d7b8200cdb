/**
 * ErrorHandler end to end: the real gateway answers errors (404 from an HTTPServer without routes) through the
 * built-in error handler, through AILERON's error-handler example set as the Entrypoint's defaultErrorHandler,
 * and through a named handler chosen by metadata.errorHandler.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { closedPort } from '../../helpers/ports.ts';
import { gatewayConfig } from '../proxy/upstream.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/aileron');

const server = (name = 'default', metadata = '') => `
apiVersion: core/v1
kind: HTTPServer
metadata: {name: ${name}${metadata}}
spec: {addr: "127.0.0.1:0"}
`;

describe('ErrorHandler (end to end)', () => {
  const running: RunningGateway[] = [];
  after(async () => {
    await Promise.all(running.map((g) => g.stop('SIGKILL')));
  });
  async function start(files: string | string[], servers = 1): Promise<RunningGateway> {
    const gw = await startGateway(files, { servers });
    running.push(gw);
    return gw;
  }

  it('answers with the built-in handler: status text by Accept, HEAD without body', async () => {
    const gw = await start(
      writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
${server()}`),
    );
    let res = await fetch(`${gw.url}/missing`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('vary'), 'Accept');
    assert.equal(await res.text(), '{"status":404,"statusText":"Not Found"}');
    res = await fetch(`${gw.url}/missing`, { headers: { accept: 'application/xml' } });
    assert.equal(await res.text(), '<result><status>404</status><statusText>Not Found</statusText></result>');
    res = await fetch(`${gw.url}/missing`, { headers: { accept: 'text/plain' } });
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'status: 404\nstatusText: Not Found\n');
    res = await fetch(`${gw.url}/missing`, { method: 'HEAD' });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '');
  });

  it("AILERON's error-handler example: bodies by path and Accept, header templates, status overrides, logs", async () => {
    const entry = writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  defaultErrorHandler: {apiVersion: core/v1, kind: ErrorHandler}
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
${server()}`);
    const gw = await start([entry, `${fixtures}/error-handler/errorhandler.yaml`]);

    let res = await fetch(`${gw.url}/foo/bar`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'msg: "^/foo*" or "^/bar.*"\ncode: E2131\nkind: CoreServerNotFound\n');

    res = await fetch(`${gw.url}/baz`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 500);
    assert.equal(
      await res.text(),
      'msg: "^/baz.*"\n"code": "E2131"\n"kind": "CoreServerNotFound"\n',
      'one content: used whatever Accept says',
    );

    res = await fetch(`${gw.url}/other`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-example'), 'status=500');
    assert.deepEqual(await res.json(), {
      app: 'AILERON Gateway',
      status: 500,
      statusText: 'Internal Server Error',
      code: 'E2131',
      kind: 'CoreServerNotFound',
    });

    res = await fetch(`${gw.url}/other`, { headers: { accept: 'text/html, application/xml' } });
    assert.equal(res.status, 404, 'statusCode 0 keeps the error status');
    assert.equal(res.headers.get('x-example'), 'status=404');
    assert.equal(res.headers.get('content-type'), 'application/xml; charset=utf-8');
    const xml = await res.text();
    assert.match(xml, /<status>404<\/status>\s*<statusText>Not Found<\/statusText>\s*<code>E2131<\/code>/);

    res = await fetch(`${gw.url}/other`, { headers: { accept: 'image/png' } });
    assert.equal(
      res.headers.get('content-type'),
      'application/json; charset=utf-8',
      'no match: the first content',
    );
    await res.text();

    // Server faults are logged at ERROR by the ErrorHandler resource, with the code, kind and stack; the client
    // saw none of it.
    const errors = gw.logs().filter((l) => l.resource === 'core/v1/ErrorHandler/default/default');
    assert.ok(errors.length >= 3);
    const first = errors[0]!;
    assert.equal(first.level, 'ERROR');
    assert.equal(first.msg, 'serve http error. status=500');
    const error = first.error as Record<string, string>;
    assert.equal(error.code, 'E2131');
    assert.equal(error.kind, 'CoreServerNotFound');
    assert.match(error.stack!, /GatewayError: handler not found/);
  });

  it('uses the error handler a server names in metadata.errorHandler', async () => {
    const gw = await start(
      writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  errorHandlers: [{apiVersion: core/v1, kind: ErrorHandler, name: plain}]
  runners:
    - {apiVersion: core/v1, kind: HTTPServer, name: custom}
    - {apiVersion: core/v1, kind: HTTPServer, name: builtin}
---
apiVersion: core/v1
kind: ErrorHandler
metadata: {name: plain}
spec:
  errorMessages:
    - codes: ["E213*"]
      mimeContents: [{mimeType: text/plain, template: "nothing here\\n"}]
---
${server('custom', ', errorHandler: core/v1/ErrorHandler/default/plain')}
---
${server('builtin')}`),
      2,
    );
    let res = await fetch(`http://${gw.addr.custom}/x`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), 'nothing here\n');
    res = await fetch(`http://${gw.addr.builtin}/x`);
    assert.equal(await res.text(), '{"status":404,"statusText":"Not Found"}');
  });

  it('refuses to start on an invalid ErrorHandler, naming file, line and field', async () => {
    const file = writeConfig(`
apiVersion: core/v1
kind: Entrypoint
spec:
  defaultErrorHandler: {apiVersion: core/v1, kind: ErrorHandler}
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: ErrorHandler
spec:
  errorMessages:
    - paths: ["^/api/(v1"]
      codes: ["*"]
      mimeContents: [{mimeType: text/plain, templateType: GoText, template: "{{.message}}"}]
---
${server()}`);
    const { code, stderr } = await runCli(['--validate', '-f', file]);
    assert.equal(code, 2);
    assert.match(
      stderr,
      /config\.yaml:12:\d+: spec\.errorMessages\[0\]\.paths\[0\]: invalid regular expression/,
    );
    assert.match(
      stderr,
      /spec\.errorMessages\[0\]\.mimeContents\[0\].template: template: line 1: unknown template name \.message; available: \.status \.statusText \.code \.kind/,
    );
  });

  it('an upstream outage does not flood the log: 10 ERROR lines a second per error, the rest counted', async () => {
    // A port nobody listens on: every request is a 502 from the proxy.
    const port = await closedPort();
    const gw = await start(
      writeConfig(
        gatewayConfig(
          ['main'],
          `apiVersion: core/v1
kind: ReverseProxyHandler
metadata: {name: main}
spec:
  loadBalancers:
    - pathMatcher: {match: /, matchType: Prefix}
      upstreams: [{url: "http://127.0.0.1:${port}"}]
`,
        ),
      ),
    );
    const statuses = await Promise.all(
      Array.from({ length: 40 }, () => fetch(`${gw.url}/x`).then((r) => r.status)),
    );
    assert.deepEqual(new Set(statuses), new Set([502]), 'every request is answered');
    const [summary] = await waitForLog(gw, /"msg":"serve http error\. status=502: (\d+) more like this/, {
      timeoutMs: 5000,
    });
    const full = gw.logs().filter((l) => l.msg === 'serve http error. status=502');
    const left = gw
      .logs()
      .filter((l) => typeof l.notLogged === 'number')
      .reduce((n, l) => n + (l.notLogged as number), 0);
    assert.ok(full.length >= 10 && full.length <= 20, `${full.length} full lines`);
    assert.equal(full.length + left, 40, 'every error is either logged or counted');
    assert.ok(Number(summary![1]) > 0);
  });
});
