/**
 * AILERON's `template` example (the compatibility corpus, read-only), run as written but for its listen address,
 * from its own folder (its `templateFile: ./template.html` is relative to the working directory, as in AILERON's
 * README): Text, GoText and GoHTML contents chosen by Accept, all with the configured status 500, and 406 for a
 * request without Accept (AILERON's TemplateHandler has no fallback).
 *
 * The GoHTML page is compared with what Go's html/template writes for the same request: each action replaced by
 * its value as Go prints it (http.Header and url.Values as `map[...]` with sorted keys, slices as `[a b]`),
 * escaped by html/template's HTML escaper (`<>&'"` and `+`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, startGateway } from '../../helpers/gateway.ts';
import { rawRequest } from '../../helpers/rawhttp.ts';

const repo = resolve(import.meta.dirname, '../../..');
// As test/e2e/compat/corpus.test.ts: beside the repository, or where AILERON_EXAMPLES points.
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const folder = resolve(corpus, 'template');

/** html/template's escaper for element text. */
const escapeHTML = (s: string) =>
  s.replace(
    /[&<>"'+]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;', '+': '&#43;' })[c]!,
  );

describe("AILERON's template example", { skip: !existsSync(folder) && `no corpus at ${corpus}` }, () => {
  let gw: RunningGateway;
  const dir = mkdtempSync(join(tmpdir(), 'aileron-template-'));
  before(async () => {
    const original = readFileSync(join(folder, 'config.yaml'), 'utf8');
    assert.match(original, /addr: ":8080"/);
    writeFileSync(join(dir, 'config.yaml'), original.replace('addr: ":8080"', 'addr: "127.0.0.1:0"'));
    gw = await startGateway(join(dir, 'config.yaml'), {
      exec: { file: process.execPath, args: [resolve(repo, 'src/cli.ts')], cwd: folder },
    });
  });
  after(async () => {
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers text/plain with the Text content, its status and headers', async () => {
    const res = await fetch(gw.url, { headers: { accept: 'text/plain' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('vary'), 'Accept');
    assert.equal(await res.text(), 'Hello! AILERON Gateway!\n');
  });

  it('answers application/json with the GoText content', async () => {
    const res = await fetch(`${gw.url}/any/path`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), { hello: 'AILERON Gateway!' });
  });

  it('picks by the order of the Accept header, globs included; no Accept or no match is 406', async () => {
    const first = await fetch(gw.url, { headers: { accept: 'image/png, application/*;q=0.1, text/plain' } });
    assert.equal(first.headers.get('content-type'), 'application/json; charset=utf-8');
    await first.arrayBuffer();
    const any = await fetch(gw.url, { headers: { accept: '*/*' } });
    assert.equal(any.headers.get('content-type'), 'text/plain; charset=utf-8');
    await any.arrayBuffer();
    for (const accept of ['', 'image/png']) {
      const res = await rawRequest(
        gw.addr.default!,
        `GET / HTTP/1.1\nHost: x\n${accept ? `Accept: ${accept}\n` : ''}Connection: close\n\n`,
      );
      assert.equal(res.status, 406, accept);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepEqual(JSON.parse(res.body), { status: 406, statusText: 'Not Acceptable' });
    }
  });

  it("renders template.html over the request as Go's html/template does", async () => {
    const ua = 'probe/1.0 (<b>&"quoted"+\'single\')';
    const res = await rawRequest(
      gw.addr.default!,
      `GET /hello%20world/?b=x+y&a=1&a=%3Cz%3E HTTP/1.1\nHost: example.test:8080\nAccept: text/html\nUser-Agent: ${ua}\nx-multi: 1\nX-Multi: 2\nConnection: close\n\n`,
    );
    assert.equal(res.status, 500);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    const header = `map[Accept:[text/html] Connection:[close] User-Agent:[${ua}] X-Multi:[1 2]]`;
    const values: Record<string, string> = {
      '{{ .proto }}': 'HTTP/1.1',
      '{{ .host }}': 'example.test:8080',
      '{{ .method }}': 'GET',
      '{{ .path }}': '/hello world/',
      '{{ .remote }}': `127.0.0.1:${res.localPort}`,
      '{{ .header }}': header,
      '{{index .header "User-Agent" }}': `[${ua}]`,
      '{{ .query }}': 'map[a:[1 <z>] b:[x y]]',
    };
    let expected = readFileSync(join(folder, 'template.html'), 'utf8');
    for (const [action, value] of Object.entries(values)) {
      assert.ok(expected.includes(action), action);
      expected = expected.replace(action, escapeHTML(value));
    }
    assert.doesNotMatch(expected, /\{\{/);
    assert.equal(res.body, expected);
    assert.match(
      res.body,
      /User-Agent : \[probe\/1\.0 \(&lt;b&gt;&amp;&#34;quoted&#34;&#43;&#39;single&#39;\)\]<\/br>/,
    );
  });
});
