/**
 * OPAAuthzMiddleware's in-process wasm path in a real gateway built from YAML, on 127.0.0.1:0. No policy compiled
 * by `opa build -t wasm` can be produced here (no opa binary, no Go toolchain), so the bundle holds a stand-in module
 * assembled by test/helpers/opa-wasm-standin.ts that implements OPA's wasm ABI 1.2 as the JavaScript SDK calls it,
 * with a fixed "policy" (allow when the path's first character is data.c; trap on "x"). What this proves: the
 * bundle is unpacked, data.json becomes the policy's data, the entrypoint named by queryParameter is called with
 * the input document, the result set decides, a trap is a 503 and never an allow. What it does not prove: that a
 * real compiled Rego policy evaluates as OPA does (that is the SDK's business, untested here).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { opaAbiStandin } from '../../../../test/helpers/opa-wasm-standin.ts';
import { tarOf } from '../../../../test/helpers/tar.ts';
import { requestFrom, serveYaml, type YamlGateway } from '../../../../test/helpers/yamlgateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'opa-wasm-'));
const bundle = join(dir, 'bundle.tar.gz');
writeFileSync(
  bundle,
  gzipSync(tarOf({ '/policy.wasm': opaAbiStandin(), '/data.json': '{"c":"a"}', '/.manifest': '{}' })),
);

const running: YamlGateway[] = [];
after(async () => {
  for (const gw of running) await gw.close();
});

function config(regos: string): string {
  return `apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  shutdownTimeout: 1
  virtualHosts:
    - middleware: [{apiVersion: app/v1, kind: OPAAuthzMiddleware}]
      handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: OPAAuthzMiddleware
spec:
  regos:
${regos}`;
}

describe('OPAAuthzMiddleware with a wasm bundle (ABI stand-in)', () => {
  it('evaluates in-process: the data and the input decide; a trap is 503, never an allow', async () => {
    const gw = await serveYaml(
      config(`    - queryParameter: data.example.authz.allow\n      wasmBundle: "${bundle}"\n`),
    );
    running.push(gw);
    assert.equal((await requestFrom(gw.port, { path: '/alpha' })).status, 200);
    assert.equal((await requestFrom(gw.port, { path: '/beta' })).status, 403);
    const trapped = await requestFrom(gw.port, { path: '/xray' });
    assert.equal(trapped.status, 503);
    assert.match(JSON.stringify(gw.logs), /E3100.*unreachable|unreachable.*E3100/);
    // The instance survives a trap: the next request is evaluated as before.
    assert.equal((await requestFrom(gw.port, { path: '/again' })).status, 200);
    for (let i = 0; i < 200; i++) {
      const big = 'h'.repeat(2000 + i);
      const res = await requestFrom(gw.port, { path: `/a${i}`, headers: ['X-Big', big] });
      assert.equal(res.status, 200, `request ${i}`);
    }
  });

  it('refuses an entrypoint the policy does not have, at wasmBundle, with the opa build command', async () => {
    await assert.rejects(
      serveYaml(config(`    - queryParameter: data.example.other\n      wasmBundle: "${bundle}"\n`)),
      /spec\.regos\[0\]\.wasmBundle: .*has no entrypoint "example\/other" \(it has: example\/authz\/allow\)[\s\S]*opa build -t wasm -e example\/other/,
    );
  });
});
