/**
 * The authentication kinds as resources: AILERON's defaults (`aileron -t`), and configurations refused before
 * anything starts, at the file, line and field, with the fix (`--validate`, in this process).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { tempFile } from '../../../test/helpers/authn.ts';
import { runInProcess } from '../../../test/helpers/cli.ts';
import { writeConfig } from '../../../test/helpers/gateway.ts';

/** A gateway whose only middleware is `kind` with `spec` (YAML lines indented by two). */
function config(kind: string, spec: string): string {
  return writeConfig(`apiVersion: core/v1
kind: Entrypoint
spec:
  runners: [{apiVersion: core/v1, kind: HTTPServer}]
---
apiVersion: core/v1
kind: HTTPServer
spec:
  addr: "127.0.0.1:0"
  middleware: [{apiVersion: app/v1, kind: ${kind}}]
  virtualHosts: [{handlers: [{handler: {apiVersion: app/v1, kind: EchoHandler}}]}]
---
apiVersion: app/v1
kind: EchoHandler
---
apiVersion: app/v1
kind: ${kind}
spec:
${spec}
`);
}

describe('authentication kinds: defaults', () => {
  const template = async (kind: string) => {
    const r = await runInProcess(['-t', `app/v1/${kind}`]);
    assert.equal(r.code, 0, r.err);
    return (parse(r.out) as { spec: Record<string, unknown> }).spec;
  };
  it("AILERON's defaults, the environment provider included", async () => {
    const basic = await template('BasicAuthnMiddleware');
    assert.equal(basic.claimsKey, 'AuthnClaims');
    assert.equal(basic.keepCredentials, false);
    assert.equal(basic.realm, '');
    assert.deepEqual(basic.envProvider, {
      usernamePrefix: 'GATEWAY_BASIC_USERNAME_',
      passwordPrefix: 'GATEWAY_BASIC_PASSWORD_',
      encoding: 'EncodingTypeUnknown',
    });
    const digest = await template('DigestAuthnMiddleware');
    assert.equal(digest.algorithm, 'MD5');
    assert.equal((digest.envProvider as Record<string, string>).usernamePrefix, 'GATEWAY_DIGEST_USERNAME_');
    const key = await template('KeyAuthnMiddleware');
    assert.equal(key.keyHeaderName, 'X-Api-Key');
    assert.deepEqual(key.envProvider, { keyPrefix: 'GATEWAY_APIKEY_', encoding: 'EncodingTypeUnknown' });
    const idkey = await template('IDKeyAuthnMiddleware');
    assert.equal(idkey.idHeaderName, 'X-Api-Id');
    assert.deepEqual(idkey.envProvider, {
      keyPrefix: 'GATEWAY_APIKEY_KEY_',
      idPrefix: 'GATEWAY_APIKEY_ID_',
      encoding: 'EncodingTypeUnknown',
    });
  });
});

describe('authentication kinds: refused at their line', () => {
  const users = tempFile('users.list', 'alice:pw\n');
  const cases: Array<[string, string, string, RegExp]> = [
    [
      'an unknown digest algorithm',
      'DigestAuthnMiddleware',
      '  algorithm: SHA-1',
      /:19:14: spec\.algorithm: unknown digest algorithm "SHA-1"[\s\S]*MD5, SHA-256, SHA-512-256/,
    ],
    [
      'two passwordCrypt algorithms',
      'BasicAuthnMiddleware',
      '  passwordCrypt: {bcrypt: {}, scrypt: {}}',
      /:19:18: spec\.passwordCrypt: passwordCrypt has one algorithm, found bcrypt, scrypt/,
    ],
    [
      'cryptSecret without its type',
      'BasicAuthnMiddleware',
      '  cryptSecret: ZXhhbXBsZV9wYXNzd29yZA==',
      /spec\.commonKeyCryptType: cryptSecret is set but commonKeyCryptType is not/,
    ],
    [
      'an AES key of the wrong size',
      'IDKeyAuthnMiddleware',
      '  commonKeyCryptType: AESGCM\n  cryptSecret: c2hvcnQ=',
      /:20:16: spec\.cryptSecret: cryptSecret must be the base64 of a 16, 24 or 32-byte AES key, found 5 bytes/,
    ],
    [
      'both providers',
      'KeyAuthnMiddleware',
      `  envProvider: {}\n  fileProvider: {paths: ["${users}"]}`,
      /spec\.fileProvider: envProvider and fileProvider are both set/,
    ],
    [
      'hmacSecret without hashAlg',
      'KeyAuthnMiddleware',
      '  hmacSecret: ZXhhbXBsZV9wYXNzd29yZA==',
      /spec\.hashAlg: hmacSecret needs hashAlg/,
    ],
    [
      'a missing credential file',
      'BasicAuthnMiddleware',
      '  fileProvider: {paths: [./no/such/users.list]}',
      /spec\.fileProvider\.paths\[0\]: cannot read \.\/no\/such\/users\.list: ENOENT/,
    ],
    [
      'a bad key header name',
      'KeyAuthnMiddleware',
      '  keyHeaderName: "X Api Key"',
      /:19:18: spec\.keyHeaderName/,
    ],
    [
      'a handler of the wrong role',
      'AuthenticationMiddleware',
      '  handlers: [{apiVersion: app/v1, kind: EchoHandler}]',
      /spec\.handlers\[0\][\s\S]*AuthenticationHandler/,
    ],
  ];
  for (const [what, kind, spec, message] of cases) {
    it(`${kind}: ${what}`, async () => {
      const r = await runInProcess(['--validate', '-f', config(kind, spec)]);
      assert.equal(r.code, 2, r.out);
      assert.match(r.err, message);
    });
  }
});
