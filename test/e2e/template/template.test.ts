/**
 * TemplateHandler end to end, from YAML on real sockets: Go templates over the request (range over the query,
 * conditionals on headers, printf), patterns and methods, HEAD, a template that fails while rendering (500
 * through the error handler, logged with Go's message), templates refused at start-up with file, line and the
 * template's own line, and template files read once: a change is served after a reload (SIGHUP), not before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../../helpers/eventually.ts';
import { type RunningGateway, runCli, startGateway, writeConfig } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';

function config(handlerSpec: string, serverSpec = ''): string {
  return `
apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: 127.0.0.1:0${serverSpec}
  virtualHosts:
    - handlers:
        - handler: {apiVersion: core/v1, kind: TemplateHandler}
---
apiVersion: core/v1
kind: TemplateHandler
spec:
${handlerSpec}
`;
}

describe('TemplateHandler (end to end)', () => {
  const running: RunningGateway[] = [];
  after(async () => {
    await Promise.all(running.map((g) => g.stop('SIGKILL')));
  });
  async function start(file: string): Promise<RunningGateway> {
    const gw = await startGateway(file);
    running.push(gw);
    return gw;
  }

  it('answers 500 through the error handler when a template fails while rendering, logged with the line', async () => {
    const gw = await start(
      writeConfig(
        config(`
  mimeContents:
    - mimeType: text/plain
      templateType: GoText
      template: |
        {{ .method }}
        {{ if eq (index .header "X-Mode") "debug" }}index gives a []string: comparing it is an error{{ end }}
`),
      ),
    );
    const res = await fetch(`${gw.url}/x`, { headers: { accept: 'application/json, text/plain' } });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { status: 500, statusText: 'Internal Server Error' });
    const [line] = await waitForLog(gw, /"code":"E2151"[^\n]*/);
    assert.match(line![0], /template failed: template: line 2: error calling eq: non-comparable type/);
  });

  it('serves a working template, with the content status and headers, HEAD without a body, other methods 404', async () => {
    const gw = await start(
      writeConfig(
        config(`
  patterns: ["/greet/", "/report"]
  methods: [GET, HEAD]
  mimeContents:
    - mimeType: application/json
      templateType: GoText
      template: '{"path": {{ printf "%q" .path }}, "n": {{ len .query }}}'
    - mimeType: text/plain
      statusCode: 201
      header: {Cache-Control: no-store}
      templateType: GoText
      template: |
        {{- $who := index .query "who" -}}
        {{ .method }} {{ .path }}{{ with $who }} for {{ index . 0 }}{{ end }}
        {{ range $k, $v := .query -}}
        {{ printf "%-4s=%v" $k $v }}
        {{ else -}}
        no query
        {{ end -}}
        {{ with index .header "X-Mode" }}{{ if eq (index . 0) "debug" }}debug on{{ end }}{{ end }}
`),
      ),
    );
    const res = await fetch(`${gw.url}/greet/x?who=Ann&z=1&z=2`, {
      headers: { accept: 'text/plain', 'x-mode': 'debug' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'GET /greet/x for Ann\nwho =[Ann]\nz   =[1 2]\ndebug on\n');

    const plain = await fetch(`${gw.url}/report`, { headers: { accept: 'text/plain' } });
    assert.equal(await plain.text(), 'GET /report\nno query\n\n');

    const json = await fetch(`${gw.url}/report?a="x"`, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 200, 'statusCode defaults to 200');
    assert.deepEqual(await json.json(), { path: '/report', n: 1 });

    const head = await fetch(`${gw.url}/report`, { method: 'HEAD', headers: { accept: 'text/plain' } });
    assert.equal(head.status, 201);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength('HEAD /report\nno query\n\n')));
    assert.equal(await head.text(), '');

    const post = await fetch(`${gw.url}/report`, { method: 'POST', headers: { accept: 'text/plain' } });
    assert.notEqual(post.status, 201, 'POST is not among the methods');
    await post.arrayBuffer();
    const other = await fetch(`${gw.url}/other`, { headers: { accept: 'text/plain' } });
    assert.equal(other.status, 404);
    await other.arrayBuffer();
  });

  it('gives HTTP/2 requests the same data: proto HTTP/2.0, host from :authority, no pseudo-headers', async () => {
    const gw = await start(
      writeConfig(
        config(
          `
  mimeContents:
    - templateType: GoText
      template: '{{.proto}} {{.host}} {{.method}} {{.path}} {{index .header "X-A"}} {{len .header}} {{.query}}'
`,
          '\n  http2Config: {enableH2C: true}',
        ),
      ),
    );
    const session = http2.connect(gw.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/h2/p?q=1', accept: 'text/plain', 'x-a': 'one' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      // accept and x-a: the pseudo-headers are not headers in Go.
      assert.equal(body, `HTTP/2.0 ${gw.addr.default} GET /h2/p [one] 2 map[q:[1]]`);
    } finally {
      session.close();
    }
  });

  it('escapes GoHTML values for HTML text and URL attributes', async () => {
    const gw = await start(
      writeConfig(
        config(`
  mimeContents:
    - mimeType: text/html
      templateType: GoHTML
      template: '<!-- not sent --><a href="{{ index .query "next" 0 }}" title="{{ .path }}">{{ index .query "q" 0 }}</a>'
`),
      ),
    );
    const q = encodeURIComponent('<script>alert("x")</script>');
    const res = await fetch(`${gw.url}/p?next=javascript:alert(1)&q=${q}`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(
      await res.text(),
      '<a href="#ZgotmplZ" title="/p">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</a>',
    );
    const ok = await fetch(`${gw.url}/p?next=/a b?c=<d>&q=x`, { headers: { accept: 'text/html' } });
    assert.equal(await ok.text(), '<a href="/a%20b?c=%3cd%3e" title="/p">x</a>');
  });

  it('refuses bad templates at start-up, naming the file, the field and the line in the template', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-template-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      config(`
  mimeContents:
    - mimeType: text/plain
      templateType: GoText
      template: "a\\nb\\n{{end}}"
    - mimeType: text/html
      templateType: GoHTML
      template: "<script>var p = {{.path}}</script>"
    - mimeType: application/json
      templateType: GoText
      template: "{{ .nope }}"
`),
    );
    const r = await runCli(['--validate', '-f', file]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(
      r.stderr,
      /config\.yaml:\d+:\d+: spec\.mimeContents\[0\]\.template: template: line 3: unexpected \{\{end\}\}/,
    );
    assert.match(
      r.stderr,
      /spec\.mimeContents\[1\]\.template: template: line 1: GoHTML: an action inside <script> is not supported/,
    );
    assert.match(
      r.stderr,
      /spec\.mimeContents\[2\]\.template: template: line 1: unknown template name \.nope; available: \.proto \.host \.method \.path \.remote \.header \.query/,
    );

    // Files are read once the configuration is otherwise valid (preflight).
    writeFileSync(
      file,
      config(`
  mimeContents:
    - mimeType: text/xml
      templateType: GoText
      templateFile: ./missing.xml
`),
    );
    const missing = await runCli(['--validate', '-f', file]);
    assert.equal(missing.code, 2, missing.stdout);
    assert.match(
      missing.stderr,
      /config\.yaml:\d+:\d+: spec\.mimeContents\[0\]\.templateFile: cannot read templateFile \.\/missing\.xml: /,
    );
  });

  it('reads template files at start-up and again on reload, not per request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aileron-template-'));
    const page = join(dir, 'page.txt');
    writeFileSync(page, 'version 1 of {{.path}}');
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      config(`
  mimeContents:
    - mimeType: text/plain
      templateType: GoText
      templateFile: ${JSON.stringify(page)}
`),
    );
    const gw = await start(file);
    const get = async () => (await fetch(`${gw.url}/x`, { headers: { accept: 'text/plain' } })).text();
    assert.equal(await get(), 'version 1 of /x');
    writeFileSync(page, 'version 2 of {{.path}}');
    assert.equal(await get(), 'version 1 of /x', 'the file is not read again per request');

    let from = gw.stdout().length;
    gw.child.kill('SIGHUP');
    await waitForLog(gw, /configuration 2 is serving/, { from });
    await eventually(async () => assert.equal(await get(), 'version 2 of /x'));

    // A file that no longer parses is refused by the reload, which keeps the running configuration.
    writeFileSync(page, '{{if .path}}');
    from = gw.stdout().length;
    gw.child.kill('SIGHUP');
    const [line] = await waitForLog(gw, /reload rejected[^\n]*/, { from });
    assert.match(line![0], /templateFile: template: line 1: unexpected EOF/);
    assert.equal(await get(), 'version 2 of /x');
  });
});
