/**
 * KeyAuthnMiddleware and IDKeyAuthnMiddleware from YAML in a real HTTPServer in front of a real upstream, with
 * the keys of AILERON's examples (plain, SHA-256, HMAC-SHA256, AES-CBC encrypted): statuses, what reaches the
 * upstream, what the context holds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createKind, serveAuthn, tempFile } from '../../../../test/helpers/authn.ts';
import type { ServedMiddleware } from '../../../../test/helpers/middleware.ts';

const servers: ServedMiddleware[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(
  kind: string,
  spec: string,
  env: Record<string, string> = {},
): Promise<ServedMiddleware> {
  const gw = await serveAuthn(await createKind(`apiVersion: app/v1\nkind: ${kind}\nspec:\n${spec}`, env));
  servers.push(gw);
  return gw;
}

const Key = 'bd16d0c8-7bc0-4bf4-a0b0-bccaa3e2f072';
const SHA256 = 'd7c405e8697751f4b430f9325417b8fc1d16c83a081bb039c3b1d7bfe12a30d6';
const HMAC = '066d62d945e88a5b2096dbbd861ff5202efba067b92d194484b64d953de6996f';
const get = (gw: ServedMiddleware, headers: Record<string, string> = {}) => fetch(`${gw.url}/x`, { headers });

describe('KeyAuthnMiddleware', () => {
  it('403 without a key or with an unknown one; 200 with a known one, the key not sent upstream', async () => {
    const gw = await serve('KeyAuthnMiddleware', '  {}', { GATEWAY_APIKEY_TEST: Key });
    assert.equal((await get(gw)).status, 403);
    const unknown = await get(gw, { 'x-api-key': 'nope' });
    assert.equal(unknown.status, 403);
    assert.deepEqual(await unknown.json(), { status: 403, statusText: 'Forbidden' });
    assert.equal(gw.upstream.requests.length, 0);
    assert.equal((await get(gw, { 'x-api-key': Key })).status, 200);
    const seen = gw.upstream.requests[0]!;
    assert.equal(seen.headers['x-api-key'], undefined);
    const subject = JSON.parse(String(seen.headers['x-probe-subject']));
    assert.match(subject.id, /^key-[0-9a-f]{16}$/);
    assert.ok(!subject.id.includes(Key.slice(0, 8)));
    const claims = JSON.parse(String(seen.headers['x-probe-claims'])).AuthnClaims;
    assert.deepEqual({ method: claims.method, key: claims.key }, { method: 'APIKey', key: Key });
  });

  for (const [what, spec, line] of [
    ['SHA-256 hashed keys', 'hashAlg: SHA256', SHA256],
    ['HMAC-SHA256 keys', 'hashAlg: SHA256\n  hmacSecret: ZXhhbXBsZV9wYXNzd29yZA==', HMAC],
    ['hashed keys written in upper case hex', 'hashAlg: SHA256', SHA256.toUpperCase()],
  ] as const) {
    it(`${what} from a file (AILERON's keys.list values), with attributes naming the subject`, async () => {
      const file = tempFile('keys.list', `# keys\n${line}:{"id":"svc-a"}\n`);
      const gw = await serve(
        'KeyAuthnMiddleware',
        `  ${spec}\n  subjectHeader: X-Client\n  fileProvider: {paths: ["${file}"], encoding: Base16}`,
      );
      assert.equal((await get(gw, { 'x-api-key': Key })).status, 200);
      assert.equal((await get(gw, { 'x-api-key': SHA256 })).status, 403, 'the stored digest is not a key');
      assert.equal(gw.upstream.requests[0]!.headers['x-client'], 'svc-a');
    });
  }

  it('keyHeaderName and keepCredentials', async () => {
    const gw = await serve('KeyAuthnMiddleware', '  keyHeaderName: X-Token\n  keepCredentials: true', {
      GATEWAY_APIKEY_T: Key,
    });
    assert.equal((await get(gw, { 'x-api-key': Key })).status, 403);
    assert.equal((await get(gw, { 'x-token': Key })).status, 200);
    assert.equal(gw.upstream.requests[0]!.headers['x-token'], Key);
  });

  it('hmacSecret without hashAlg, and a hash Node.js lacks, are configuration errors at their field', async () => {
    await assert.rejects(
      createKind(
        'apiVersion: app/v1\nkind: KeyAuthnMiddleware\nspec:\n  hmacSecret: ZXhhbXBsZV9wYXNzd29yZA==',
      ),
      /spec\.hashAlg: hmacSecret needs hashAlg/,
    );
    await assert.rejects(
      createKind('apiVersion: app/v1\nkind: KeyAuthnMiddleware\nspec:\n  hashAlg: FNV1_32'),
      /spec\.hashAlg: hash algorithm FNV1_32 is not available here/,
    );
  });
});

describe('IDKeyAuthnMiddleware', () => {
  const lines = [
    `user0:${Key}`,
    `user1:${SHA256}`,
    'user3:313233343536373839303132333435368e1d0838f4a08ab69a5961a9ce54ae24281541e1d1fc228dae66e9b23dfcfa8cb9e9656ee728d35b29e88385a011911e',
    'user4:31323334353637383930313233343536eccf566b5b0eceb06e4ccf5c7c1339748c552cc91ed60cbeacaee1bc7501b4adac5b9562a46da20dee0e081fbdf58c40',
  ];

  it('403 for a missing id or key, an unknown id or a wrong key; 200 with both headers removed upstream', async () => {
    const file = tempFile('keys.list', `${lines[0]}:{"plan":"gold"}\n`);
    const gw = await serve('IDKeyAuthnMiddleware', `  fileProvider: {paths: ["${file}"]}`);
    for (const h of [
      {},
      { 'x-api-id': 'user0' },
      { 'x-api-key': Key },
      { 'x-api-id': 'userX', 'x-api-key': Key },
      { 'x-api-id': 'user0', 'x-api-key': 'k' },
    ])
      assert.equal((await get(gw, h)).status, 403, JSON.stringify(h));
    assert.equal(gw.upstream.requests.length, 0);
    assert.equal((await get(gw, { 'x-api-id': 'user0', 'x-api-key': Key })).status, 200);
    const seen = gw.upstream.requests[0]!;
    assert.equal(seen.headers['x-api-id'], undefined);
    assert.equal(seen.headers['x-api-key'], undefined);
    assert.deepEqual(JSON.parse(String(seen.headers['x-probe-subject'])), { id: 'user0', method: 'APIKey' });
    assert.deepEqual(JSON.parse(String(seen.headers['x-probe-claims'])).AuthnClaims.attrs, { plan: 'gold' });
  });

  it("AES-CBC encrypted keys, plain and SHA-256 hashed (AILERON's user3 and user4)", async () => {
    const file = tempFile('keys.list', `${lines[2]}\n`);
    const hashed = tempFile('keys.list', `${lines[3]}\n`);
    const crypt = '  commonKeyCryptType: AESCBC\n  cryptSecret: ZXhhbXBsZV9wYXNzd29yZA==';
    const gw = await serve(
      'IDKeyAuthnMiddleware',
      `${crypt}\n  fileProvider: {paths: ["${file}"], encoding: Base16}`,
    );
    assert.equal((await get(gw, { 'x-api-id': 'user3', 'x-api-key': Key })).status, 200);
    const gw2 = await serve(
      'IDKeyAuthnMiddleware',
      `${crypt}\n  hashAlg: SHA256\n  fileProvider: {paths: ["${hashed}"], encoding: Base16}`,
    );
    assert.equal((await get(gw2, { 'x-api-id': 'user4', 'x-api-key': Key })).status, 200);
    assert.equal((await get(gw2, { 'x-api-id': 'user4', 'x-api-key': `${Key}x` })).status, 403);
  });

  it('ids and keys from the environment (the default provider)', async () => {
    const gw = await serve('IDKeyAuthnMiddleware', '  {}', {
      GATEWAY_APIKEY_ID_1: 'envid',
      GATEWAY_APIKEY_KEY_1: 'envkey',
    });
    assert.equal((await get(gw, { 'x-api-id': 'envid', 'x-api-key': 'envkey' })).status, 200);
  });

  it('a stored key that does not decrypt is a start-up error at its line (AILERON: a 500 per request)', async () => {
    const file = tempFile(
      'keys.list',
      'user9:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n',
    );
    await assert.rejects(
      createKind(
        `apiVersion: app/v1\nkind: IDKeyAuthnMiddleware\nspec:\n  commonKeyCryptType: AESCBC\n  cryptSecret: ZXhhbXBsZV9wYXNzd29yZA==\n  fileProvider: {paths: ["${file}"], encoding: Base16}`,
      ),
      /keys\.list:1: the secret does not decrypt with AESCBC/,
    );
  });
});
