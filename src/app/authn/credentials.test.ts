/** Credential files and environment providers: AILERON's line format, its errors at file:line, and no secret in any message. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CredentialError,
  envKeys,
  envPairs,
  parseCredentialText,
  readCredentialFiles,
} from './credentials.ts';

const parse = (text: string, shape: 'pair' | 'key' = 'pair') =>
  parseCredentialText(text, shape, 'EncodingTypeUnknown', 'users.list', ['fileProvider', 'paths', 0]);

describe('credential files', () => {
  it('reads name:secret[:attrs] lines, trimmed, skipping blanks and comments', () => {
    const t = parse('# users\n\n  alice:s3cret \r\n\tbob:pw:{"role":"admin"}\n#carol:x\n');
    assert.deepEqual([...t.keys()], ['alice', 'bob']);
    assert.equal(t.get('alice')?.secret.toString(), 's3cret');
    assert.deepEqual(t.get('bob')?.attrs, { role: 'admin' });
    assert.equal(t.get('bob')?.source, 'users.list:4');
  });

  it('reads key[:attrs] lines for KeyAuthn (the part after ":" is attributes, as AILERON)', () => {
    const t = parse('k1\nk2:{"id":"svc"}\n', 'key');
    assert.deepEqual([...t.keys()], ['k1', 'k2']);
    assert.deepEqual(t.get('k2')?.attrs, { id: 'svc' });
  });

  const refusals: Array<[string, string, RegExp]> = [
    ['a line without ":"', 'alice:ok\nmallory-password-no-colon\n', /users\.list:2: the line has no ":"/],
    [
      'a duplicate user',
      'alice:one\nalice:two\n',
      /users\.list:2: duplicate name "alice", first defined at users\.list:1/,
    ],
    [
      'attributes that are not a JSON object',
      'alice:pw:[1,2]\n',
      /users\.list:1: the attributes .* are not a JSON object/,
    ],
    ['an empty secret', 'alice:\n', /users\.list:1: the secret is empty/],
  ];
  for (const [what, text, message] of refusals) {
    it(`refuses ${what} at its line, without quoting the line`, () => {
      assert.throws(
        () => parse(text),
        (err: unknown) => {
          assert.ok(err instanceof CredentialError);
          assert.match(err.message, message);
          assert.deepEqual(err.field, ['fileProvider', 'paths', 0]);
          for (const secret of ['one', 'two', 'mallory-password-no-colon', 'pw:[1,2]'])
            assert.ok(!err.message.includes(secret), err.message);
          return true;
        },
      );
    });
  }

  it('a duplicate key is named by where it is, never by its text', () => {
    assert.throws(
      () => parse('topsecretkey\ntopsecretkey\n', 'key'),
      (err: Error) => {
        assert.match(err.message, /users\.list:2: duplicate key, first defined at users\.list:1/);
        assert.ok(!err.message.includes('topsecretkey'));
        return true;
      },
    );
  });

  it('decodes secrets with the encoding, and refuses one that is not valid there', () => {
    const t = parseCredentialText('alice:70617373\n', 'pair', 'Base16', 'f', ['x']);
    assert.equal(t.get('alice')?.secret.toString(), 'pass');
    assert.throws(
      () => parseCredentialText('alice:xyz\n', 'pair', 'Base16', 'f', ['x']),
      /f:1: the secret is not valid Base16/,
    );
  });

  it('reads several files and folders into one table; a missing file is an error at its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'authn-creds-'));
    writeFileSync(join(dir, 'a.list'), 'alice:1\n');
    writeFileSync(join(dir, 'b.list'), 'bob:2\n');
    const t = readCredentialFiles([dir], 'pair', 'EncodingTypeUnknown', ['fileProvider', 'paths']);
    assert.deepEqual([...t.keys()].sort(), ['alice', 'bob']);
    assert.throws(
      () =>
        readCredentialFiles([join(dir, 'a.list'), join(dir, 'a.list')], 'pair', 'EncodingTypeUnknown', ['p']),
      /duplicate name "alice"/,
    );
    assert.throws(
      () =>
        readCredentialFiles([join(dir, 'a.list'), join(dir, 'none')], 'pair', 'EncodingTypeUnknown', [
          'fileProvider',
          'paths',
        ]),
      (err: CredentialError) =>
        err.field.join('.') === 'fileProvider.paths.1' && /cannot read .*none: ENOENT/.test(err.message),
    );
  });
});

describe('environment providers', () => {
  it('pairs users and passwords by number (01 = 1), skipping unpaired and empty ones', () => {
    const t = envPairs(
      {
        GATEWAY_BASIC_USERNAME_01: 'alice',
        GATEWAY_BASIC_PASSWORD_1: 'pa',
        GATEWAY_BASIC_USERNAME_2: 'bob',
        GATEWAY_BASIC_USERNAME_3: 'carol',
        GATEWAY_BASIC_PASSWORD_3: '',
        GATEWAY_BASIC_USERNAME_X: 'dave',
        GATEWAY_BASIC_PASSWORD_X: 'pd',
      },
      'GATEWAY_BASIC_USERNAME_',
      'GATEWAY_BASIC_PASSWORD_',
      'EncodingTypeUnknown',
      ['envProvider'],
    );
    assert.deepEqual([...t.keys()], ['alice']);
    assert.equal(t.get('alice')?.secret.toString(), 'pa');
  });

  it('IDKey prefixes: GATEWAY_APIKEY_KEY_1 is a key, not an id', () => {
    const t = envPairs(
      { GATEWAY_APIKEY_ID_1: 'svc', GATEWAY_APIKEY_KEY_1: 'k' },
      'GATEWAY_APIKEY_ID_',
      'GATEWAY_APIKEY_KEY_',
      'EncodingTypeUnknown',
      [],
    );
    assert.equal(t.get('svc')?.secret.toString(), 'k');
  });

  it('Key: every variable with the prefix is a key; duplicates are an error naming the variables, not the key', () => {
    const t = envKeys(
      { GATEWAY_APIKEY_A: 'k1', GATEWAY_APIKEY_B: 'k2', OTHER: 'x' },
      'GATEWAY_APIKEY_',
      'EncodingTypeUnknown',
      [],
    );
    assert.deepEqual([...t.keys()].sort(), ['k1', 'k2']);
    assert.throws(
      () =>
        envKeys(
          { GATEWAY_APIKEY_A: 'samekey', GATEWAY_APIKEY_B: 'samekey' },
          'GATEWAY_APIKEY_',
          'EncodingTypeUnknown',
          [],
        ),
      (err: Error) => /GATEWAY_APIKEY_B: duplicate key/.test(err.message) && !err.message.includes('samekey'),
    );
  });
});
