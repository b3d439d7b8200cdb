import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { memoryLogger } from '../../../test/helpers/memory-logger.ts';
import { GatewayError } from '../../kernel/errors.ts';
import { ConfigError } from '../../kernel/problems.ts';
import { Registry } from '../../kernel/registry.ts';
import { defaults } from '../../kernel/schema.ts';
import { ErrProxyNoUpstream, ErrServerNotFound, ErrServerRecover } from '../errors.ts';
import { type ErrorHandler, ErrorHandlerRole, GatewayRequest } from '../roles.ts';
import { resource } from './api.ts';

const ref = { apiVersion: 'core/v1', kind: 'ErrorHandler', namespace: 'default', name: 'default' };

async function build(spec: string, logger = memoryLogger().logger): Promise<ErrorHandler> {
  const registry = new Registry().register(resource);
  registry.defaultLogger = logger;
  registry.loadText('eh.yaml', `apiVersion: core/v1\nkind: ErrorHandler\nspec:\n${spec}`, {});
  return registry.get(ref, ErrorHandlerRole);
}

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** Serves every request by passing the error for its path (`/notfound...`, `/noupstream...`, else 500) to `eh`. */
async function serve(eh: ErrorHandler): Promise<string> {
  const server = http.createServer({ IncomingMessage: GatewayRequest }, (req, res) => {
    const path = req.url ?? '/';
    const err = path.startsWith('/notfound')
      ? new GatewayError(ErrServerNotFound, { details: { method: req.method ?? '', path } })
      : path.startsWith('/noupstream')
        ? new GatewayError(ErrProxyNoUpstream, { details: { path } })
        : new GatewayError(ErrServerRecover);
    eh.serveHTTPError(req, res, err);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('core/v1 ErrorHandler resource', () => {
  it('defaults to no custom messages and plays the ErrorHandler role', () => {
    assert.deepEqual(defaults(resource.spec), {
      stackAlways: false,
      maxErrorLogsPerSecond: 10,
      errorMessages: [],
    });
    assert.deepEqual(resource.roles, ['ErrorHandler']);
  });

  it('matches custom messages by code glob and negotiates the content by Accept', async () => {
    const url = await serve(
      await build(`
  errorMessages:
    - codes: ["E2131"]
      mimeContents:
        - mimeType: application/json
          templateType: GoText
          template: '{"error":"{{.statusText}}","code":"{{.code}}","kind":"{{.kind}}","status":{{.status}}}'
        - mimeType: text/plain
          statusCode: 410
          header: {Cache-Control: no-store}
          template: gone
`),
    );
    let res = await fetch(`${url}/notfound`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 404, 'statusCode 0 keeps the error status');
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), {
      error: 'Not Found',
      code: 'E2131',
      kind: 'CoreServerNotFound',
      status: 404,
    });
    res = await fetch(`${url}/notfound`, { headers: { accept: 'text/*' } });
    assert.equal(res.status, 410);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await res.text(), 'gone');
    res = await fetch(`${url}/notfound`, { headers: { accept: 'image/png' } });
    assert.equal(
      res.headers.get('content-type'),
      'application/json; charset=utf-8',
      'no match: first content',
    );
    await res.text();
    res = await fetch(`${url}/noupstream`, { headers: { accept: 'text/plain' } });
    assert.equal(
      await res.text(),
      'status: 404\nstatusText: Not Found\n',
      'other codes keep the default body',
    );
  });

  it('requires the path to match and then one of codes, kinds or messages', async () => {
    const url = await serve(
      await build(`
  errorMessages:
    - paths: ["^/notfound/api"]
      kinds: ["CoreServer*"]
      mimeContents: [{mimeType: text/plain, template: api}]
    - messages: ["cannot find upstream for /noupstream/a"]
      mimeContents: [{mimeType: text/plain, template: by-message}]
    - paths: ["^/notfound/any"]
      mimeContents: [{mimeType: text/plain, template: path-only}]
`),
    );
    assert.equal(await (await fetch(`${url}/notfound/api/x`)).text(), 'api');
    assert.equal(
      await (await fetch(`${url}/notfound/web`)).text(),
      '{"status":404,"statusText":"Not Found"}',
    );
    assert.equal(await (await fetch(`${url}/noupstream/a`)).text(), 'by-message');
    assert.equal(
      await (await fetch(`${url}/noupstream/b`)).text(),
      '{"status":404,"statusText":"Not Found"}',
    );
    assert.equal(
      await (await fetch(`${url}/notfound/any`)).text(),
      'path-only',
      'an entry with only paths applies to every error there',
    );
  });

  it('renders header templates per response without piling them up', async () => {
    const url = await serve(
      await build(`
  errorMessages:
    - codes: ["*"]
      headerTemplate:
        X-Error: "{{status}} {{code}} {{.kind}}"
      mimeContents: [{mimeType: application/json, statusCode: 503, template: "{}"}]
`),
    );
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/notfound`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-error'), '503 E2131 CoreServerNotFound');
      await res.text();
    }
  });

  it('reads a GoHTML templateFile at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-eh-'));
    const file = join(dir, 'error.html');
    writeFileSync(file, '<h1>{{.status}} {{.statusText}}</h1>');
    const url = await serve(
      await build(`
  errorMessages:
    - codes: ["*"]
      mimeContents:
        - {mimeType: text/html, templateType: GoHTML, templateFile: ${JSON.stringify(file)}}
`),
    );
    const res = await fetch(`${url}/x`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await res.text(), '<h1>500 Internal Server Error</h1>');
  });

  it('renders Go templates with conditionals; one that fails while rendering sends the default body, logged', async () => {
    const { logger, lines } = memoryLogger('info');
    const url = await serve(
      await build(
        `
  errorMessages:
    - codes: ["*"]
      mimeContents:
        - mimeType: text/plain
          templateType: GoText
          template: '{{if ge .status 500}}server{{else}}client{{end}} {{printf "%s/%d" .code .status}}'
        - mimeType: application/json
          templateType: GoText
          template: '{{index .code 99}}'
`,
        logger,
      ),
    );
    const text = await fetch(`${url}/notfound`, { headers: { accept: 'text/plain' } });
    assert.equal(await text.text(), 'client E2131/404');
    const failed = await fetch(`${url}/notfound`, { headers: { accept: 'application/json' } });
    assert.equal(failed.status, 404);
    assert.equal(failed.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await failed.text(), '{"status":404,"statusText":"Not Found"}');
    const line = lines.find((l) => l.msg === 'error template failed: the default body is sent');
    assert.match(String(line?.error), /template: line 1: error calling index: index out of range: 99/);
  });

  it('ignores entries without contents, with a warning', async () => {
    const { logger, lines } = memoryLogger('info');
    const url = await serve(await build('  errorMessages:\n    - codes: ["*"]\n', logger));
    assert.equal(await (await fetch(`${url}/notfound`)).text(), '{"status":404,"statusText":"Not Found"}');
    assert.ok(lines.some((l) => l.level === 'warn' && /errorMessages\[0\] has no mimeContents/.test(l.msg)));
  });

  it('reports bad patterns, templates and headers with their field before anything runs', async () => {
    await assert.rejects(
      build(`
  errorMessages:
    - paths: ["(unclosed"]
      codes: ["E[12"]
      mimeContents:
        - mimeType: text/plain
          templateType: GoText
          template: "{{.nope}}"
          header: {"bad header": x}
`),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(
          err.message,
          /spec\.errorMessages\[0\]\.paths\[0\]: invalid regular expression "\(unclosed": missing closing \)/,
        );
        assert.match(
          err.message,
          /spec\.errorMessages\[0\]\.codes\[0\]: invalid glob "E\[12": a \[ class is not closed/,
        );
        assert.match(
          err.message,
          /spec\.errorMessages\[0\]\.mimeContents\[0\].template: template: line 1: unknown template name \.nope/,
        );
        assert.match(err.message, /spec\.errorMessages\[0\]\.mimeContents\[0\]\.header\.bad header/);
        return true;
      },
    );
  });

  it('fails to start when a templateFile cannot be read, naming the field', async () => {
    await assert.rejects(
      build(
        '  errorMessages:\n    - codes: ["*"]\n      mimeContents: [{mimeType: text/html, templateFile: /nonexistent/e.html}]\n',
      ),
      /spec\.errorMessages\[0\]\.mimeContents\[0\]\.templateFile: cannot read templateFile \/nonexistent\/e\.html: no such file \(ENOENT\)/,
    );
  });
});
