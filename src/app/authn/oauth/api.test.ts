/**
 * OAuthAuthenticationHandler as a resource: AILERON's defaults (`aileron -t`, the validations that default from
 * the provider and client) and configurations refused before anything starts, at the file, line and field
 * (`--validate`, in this process).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { tempFile } from '../../../../test/helpers/authn.ts';
import { runInProcess } from '../../../../test/helpers/cli.ts';
import { writeConfig } from '../../../../test/helpers/gateway.ts';

/** A gateway with an AuthenticationMiddleware holding one OAuthAuthenticationHandler with `spec` (lines after the first indented by two). */
function config(spec: string): string {
  return writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  middleware: [{apiVersion: app/v1, kind: AuthenticationMiddleware}]
  virtualHosts: [{handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: AuthenticationMiddleware
spec:
  handlers: [{apiVersion: app/v1, kind: OAuthAuthenticationHandler}]
---
apiVersion: app/v1
kind: OAuthAuthenticationHandler
spec:
  ${spec}
`);
}

const validate = (spec: string) => runInProcess(['--validate', '-f', config(spec)]);

describe('OAuthAuthenticationHandler: defaults', () => {
  it("AILERON's defaults: the resource server flow, no contexts; a context with provider and client validates", async () => {
    const r = await runInProcess(['-t', 'app/v1/OAuthAuthenticationHandler']);
    assert.equal(r.code, 0, r.err);
    const spec = (parse(r.out) as { spec: Record<string, unknown> }).spec;
    assert.deepEqual(spec.resourceServerHandler, {
      headerKey: 'Authorization',
      enabledFAPI: false,
      requiredScopes: [],
    });
    assert.deepEqual(spec.contexts, []);
    const file = config(`ropcHandler: {}
  contexts:
    - provider: {issuer: "https://idp.example"}
      client: {id: app}`);
    const printed = await runInProcess(['-f', file, '--validate']);
    assert.equal(printed.code, 0, printed.err);
  });
});

describe('OAuthAuthenticationHandler: refused at load time', () => {
  it('two flows, naming the second', async () => {
    const r = await validate(`resourceServerHandler: {enabledFAPI: true}
  ropcHandler: {}`);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /:\d+:\d+: spec\.ropcHandler: an OAuthAuthenticationHandler has one flow, found resourceServerHandler, ropcHandler/,
    );
  });

  it('a redirectPathPattern that is not a regular expression, at its field', async () => {
    const r = await validate(
      `authorizationCodeHandler: {callbackURL: "https://gw.example/auth/callback", redirectPathPattern: "^/(app"}`,
    );
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /:\d+:\d+: spec\.authorizationCodeHandler\.redirectPathPattern: .*regular expression/,
    );
  });

  it('two contexts of one name', async () => {
    const r = await validate(`contexts: [{name: a}, {name: a}]`);
    assert.equal(r.code, 2);
    assert.match(r.err, /spec\.contexts\[1\]\.name: context "a" is declared twice/);
  });

  it('a key file that cannot be read, a key that does not fit its algorithm, NONE', async () => {
    let r = await validate(`contexts:
    - jwtHandler: {publicKeys: [{keyID: k, algorithm: RS256, keyType: PUBLIC, keyFilePath: ./no/such.pem}]}`);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /:\d+:\d+: spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.keyFilePath: cannot read the key file "\.\/no\/such\.pem"/,
    );
    const ec = tempFile(
      'ec.pem',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
        type: 'spki',
        format: 'pem',
      }) as string,
    );
    r = await validate(`contexts:
    - jwtHandler: {publicKeys: [{keyID: k, algorithm: RS256, keyType: PUBLIC, keyFilePath: "${ec}"}]}`);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /spec\.contexts\[0\]\.jwtHandler\.publicKeys\[0\]\.algorithm: RS256 needs a rsa key, found ec/,
    );
    r = await validate(`contexts:
    - jwtHandler: {publicKeys: [{keyID: k, algorithm: NONE, keyType: PUBLIC, keyString: "eA=="}]}`);
    assert.equal(r.code, 2);
    assert.match(r.err, /publicKeys\[0\]\.algorithm: a key needs an algorithm, found NONE/);
  });

  it('a flow AILERON has not named: an unknown field, at its line', async () => {
    const r = await validate('deviceCodeHandler: {}');
    assert.equal(r.code, 2);
    assert.match(r.err, /spec\.deviceCodeHandler: unknown field "deviceCodeHandler"/);
  });
});
