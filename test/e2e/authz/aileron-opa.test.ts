/**
 * AILERON's authz-opa example (../shared/aileron-examples/authz-opa: config.yaml, config-basicauth.yaml) on the
 * real gateway process. Unchanged, each is refused with the documented reason (Rego files are not evaluated
 * in-process). With one line added, `opaServer: {url: …}` under the OPAAuthzMiddleware's spec (and the listen
 * address changed to a free port), each runs against a stand-in OPA server that speaks OPA's Data API and decides
 * as AILERON's example policies do (their .rego files are not in the corpus, and no OPA binary can be installed
 * here: test/helpers/opa-standin.ts).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningGateway, runCli, startGateway } from '../../helpers/gateway.ts';
import { waitForLog } from '../../helpers/logs.ts';
import { AileronExamplePolicies, type OPAStandin, startOPAStandin } from '../../helpers/opa-standin.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const example = join(corpus, 'authz-opa');
const available = existsSync(example);
/** How long the gateway may take to start on a loaded machine. */
const StartDeadline = 30_000;
const basic = (u: string) => `Basic ${Buffer.from(`${u}:password`).toString('base64')}`;

describe('AILERON authz-opa example', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  let opa: OPAStandin;
  const running: RunningGateway[] = [];
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aileron-authz-opa-'));
    for (const f of ['config.yaml', 'config-basicauth.yaml', 'htpasswd'])
      copyFileSync(join(example, f), join(dir, f));
    // One package, one rule each, as in AILERON's example: the two configs query the same path, so the stand-in
    // decides by which config runs (set before each start).
    opa = await startOPAStandin({ 'example/authz/allow': (input) => policy(input) });
  });
  let policy: (input: Record<string, unknown>) => boolean = AileronExamplePolicies.header;
  after(async () => {
    for (const gw of running) await gw.stop();
    await opa.close();
  });

  /** The config with opaServer added and a free port; written beside AILERON's htpasswd. */
  function pointedAtOPA(name: string): string {
    const text = readFileSync(join(dir, name), 'utf8');
    const resource = 'kind: OPAAuthzMiddleware\nspec:\n';
    assert.ok(text.includes(resource) && text.includes('addr: ":8080"'));
    const changed = text
      .replace(resource, `${resource}  opaServer: {url: "${opa.url}"}\n`)
      .replace('addr: ":8080"', 'addr: "127.0.0.1:0"');
    const file = join(dir, `opa-${name}`);
    writeFileSync(file, changed);
    return file;
  }

  async function send(gw: RunningGateway, method: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${gw.url}/test`, { method, headers, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  }

  it('unchanged, both configs are refused: Rego is not evaluated in-process; use opaServer or a wasm bundle', async () => {
    for (const [name, line] of [
      ['config.yaml', 33],
      ['config-basicauth.yaml', 36],
    ] as const) {
      const { code, stderr, stdout } = await runCli(['--validate', '-f', join(dir, name)]);
      assert.notEqual(code, 0);
      const out = stderr + stdout;
      assert.match(
        out,
        new RegExp(
          `${name.replace('.', '\\.')}:${line}:9: spec\\.regos\\[0\\]\\.policyFiles: Rego policies are not evaluated in-process`,
        ),
      );
      assert.match(out, /spec\.opaServer\.url/);
      assert.match(out, /opa build -t wasm/);
    }
  });

  it('config.yaml with opaServer: POST with Foo: bar gets the echo, anything else 403', async () => {
    policy = AileronExamplePolicies.header;
    const gw = await startGateway(pointedAtOPA('config.yaml'), { timeoutMs: StartDeadline });
    running.push(gw);
    const ok = await send(gw, 'POST', { Foo: 'bar' });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /Method : POST/);
    const get = await send(gw, 'GET', { Foo: 'bar' });
    assert.equal(get.status, 403);
    assert.equal(get.body.trim(), '{"status":403,"statusText":"Forbidden"}');
    assert.equal((await send(gw, 'POST', { Foo: 'baz' })).status, 403);
    // OPA goes away: fail closed, 503, and the gateway says why in its log.
    opa.mode = 'error';
    try {
      assert.equal((await send(gw, 'POST', { Foo: 'bar' })).status, 503);
      await waitForLog(gw, /E3100.*OPA answered 500|OPA answered 500.*E3100/);
    } finally {
      opa.mode = 'ok';
    }
    assert.equal((await send(gw, 'POST', { Foo: 'bar' })).status, 200);
    await gw.stop();
  });

  it("config-basicauth.yaml with opaServer: the users' scopes decide (readonly GET, update POST)", async () => {
    policy = AileronExamplePolicies.basicauth;
    // Run from the config's folder, as AILERON's README does: its htpasswd path is relative (./htpasswd).
    const gw = await startGateway(pointedAtOPA('config-basicauth.yaml'), {
      exec: { file: process.execPath, args: [join(repo, 'src/cli.ts')], cwd: dir },
      timeoutMs: StartDeadline,
    });
    running.push(gw);
    const cases: Array<[string, string, number]> = [
      ['alice', 'GET', 200],
      ['alice', 'POST', 200],
      ['bob', 'GET', 200],
      ['bob', 'POST', 403],
      ['john', 'GET', 403],
      ['john', 'POST', 200],
      ['tom', 'GET', 403],
    ];
    for (const [user, method, status] of cases)
      assert.equal(
        (await send(gw, method, { Authorization: basic(user) })).status,
        status,
        `${user} ${method}`,
      );
    assert.equal((await send(gw, 'GET')).status, 401, 'no credentials: authentication answers first');
    const last = opa.queries.at(-1)!;
    assert.equal((last.input.auth as { name: string }).name, 'tom');
    await gw.stop();
  });
});
