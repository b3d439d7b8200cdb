/**
 * AILERON's own authentication examples (../shared/aileron-examples: authn-basic, authn-digest, authn-key,
 * authn-idkey) load unchanged and behave as AILERON documents them. They read their credential files at
 * ./_example/<name>/ (AILERON's repository layout), so each runs from a temporary folder with that layout: first
 * `aileron --validate` on the unchanged file, then the same text served in this process with only the listen
 * address changed (":8080" -> a free port).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../../../src/cli.ts';
import { challengeParams, digestAuthorization } from '../../helpers/digest-client.ts';
import { serveYaml, type YamlGateway } from '../../helpers/yamlgateway.ts';

const repo = resolve(import.meta.dirname, '../../..');
const corpus = resolve(process.env.AILERON_EXAMPLES ?? resolve(repo, '../shared/aileron-examples'));
const available = existsSync(join(corpus, 'authn-basic'));
const Key = 'bd16d0c8-7bc0-4bf4-a0b0-bccaa3e2f072';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** A folder with AILERON's layout for `name`: config.yaml and _example/<name>/<its data files>. */
function layout(name: string): { dir: string; yaml: string } {
  const dir = mkdtempSync(join(tmpdir(), `aileron-${name}-`));
  mkdirSync(join(dir, '_example', name), { recursive: true });
  for (const f of readdirSync(join(corpus, name)))
    if (!f.endsWith('.yaml')) copyFileSync(join(corpus, name, f), join(dir, '_example', name, f));
  copyFileSync(join(corpus, name, 'config.yaml'), join(dir, 'config.yaml'));
  return { dir, yaml: readFileSync(join(dir, 'config.yaml'), 'utf8') };
}

describe('AILERON authentication examples', {
  skip: available ? false : `no AILERON examples at ${corpus}`,
}, () => {
  const home = process.cwd();
  const running: YamlGateway[] = [];
  const savedKey = process.env.GATEWAY_APIKEY_1;
  before(() => {
    // AILERON's authn-key README: the key comes from the environment.
    process.env.GATEWAY_APIKEY_1 = Key;
  });
  after(async () => {
    process.chdir(home);
    for (const gw of running) await gw.close();
    if (savedKey === undefined) delete process.env.GATEWAY_APIKEY_1;
    else process.env.GATEWAY_APIKEY_1 = savedKey;
  });

  /** Validates the unchanged config from its layout, then serves it on a free port. */
  async function run(name: string): Promise<YamlGateway> {
    const { dir, yaml } = layout(name);
    process.chdir(dir);
    let err = '';
    const code = await cli(['--validate', '-f', 'config.yaml'], new AbortController().signal, {
      out: () => {},
      err: (t) => {
        err += t;
      },
      env: { ...process.env },
    });
    assert.equal(code, 0, err);
    assert.ok(yaml.includes('addr: ":8080"'));
    const gw = await serveYaml(yaml.replace('addr: ":8080"', 'addr: "127.0.0.1:0"'));
    running.push(gw);
    return gw;
  }

  it('authn-basic: user0:password0 gets the echo; no or wrong credentials get 401 with the challenge', async () => {
    const gw = await run('authn-basic');
    const none = await fetch(`${gw.url}/`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="example", charset="UTF-8"');
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { authorization: basic('user0', 'wrong') } })).status,
      401,
    );
    const ok = await fetch(`${gw.url}/`, { headers: { authorization: basic('user0', 'password0') } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /---------- Request ----------/);
  });

  it('authn-digest: a SHA-256 digest of user0:password0 gets the echo', async () => {
    const gw = await run('authn-digest');
    const challenge = (await fetch(`${gw.url}/`)).headers.get('www-authenticate') ?? '';
    assert.equal(challengeParams(challenge).algorithm, 'SHA-256');
    const answer = (password: string, nc: number) =>
      digestAuthorization(challenge, { user: 'user0', password, method: 'GET', uri: '/', nc });
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { authorization: answer('password0', 1) } })).status,
      200,
    );
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { authorization: answer('password1', 2) } })).status,
      401,
    );
  });

  it('authn-key: the key from GATEWAY_APIKEY_1 in X-Api-Key gets the echo; another gets 403', async () => {
    const gw = await run('authn-key');
    assert.equal((await fetch(`${gw.url}/`, { headers: { 'x-api-key': Key } })).status, 200);
    assert.equal((await fetch(`${gw.url}/`, { headers: { 'x-api-key': 'other' } })).status, 403);
    assert.equal((await fetch(`${gw.url}/`)).status, 403);
  });

  it('authn-idkey: user0 with its key gets the echo; a wrong key or no id gets 403', async () => {
    const gw = await run('authn-idkey');
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { 'x-api-id': 'user0', 'x-api-key': Key } })).status,
      200,
    );
    assert.equal(
      (await fetch(`${gw.url}/`, { headers: { 'x-api-id': 'user0', 'x-api-key': 'x' } })).status,
      403,
    );
    assert.equal((await fetch(`${gw.url}/`, { headers: { 'x-api-key': Key } })).status, 403);
  });
});
