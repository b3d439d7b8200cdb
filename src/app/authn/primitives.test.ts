/**
 * The building blocks of the authentication kinds against AILERON's own data: its example users.list recipes
 * (scrypt, PBKDF2, Argon2i, Argon2id, bcrypt, AES-CBC), its encodings, and the verified-credential cache.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { VerifiedCache } from './cache.ts';
import { decrypter } from './crypt.ts';
import { decode, type Encoding, encode } from './encoding.ts';
import { passwordCompiler } from './passwords.ts';
import { UserTable } from './users.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
const salt = Buffer.from('1234567890').toString('hex');

describe('passwordCrypt, with the values of AILERON examples/authn-basic/users.list', () => {
  const cases = [
    {
      name: 'scrypt',
      spec: { scrypt: { saltLen: 10, keyLen: 32, n: 16384, r: 8, p: 1 } },
      stored: `${salt}0eac003ee28752ce2f4cd115454a9266b14251fd289cea73abe423267774c64c`,
      password: 'password3',
    },
    {
      name: 'pbkdf2',
      spec: { pbkdf2: { saltLen: 10, keyLen: 32, iter: 1024, hashAlg: 'SHA256' } },
      stored: `${salt}d28c551ba27d9b733be0ab0b5e14e79099c796fbd53eeaa4ed2e8b27099cc078`,
      password: 'password4',
    },
    {
      name: 'argon2i',
      spec: { argon2i: { saltLen: 10, keyLen: 32, time: 2, memory: 1024, threads: 4 } },
      stored: `${salt}4833217675af54e2c89b1526a21d43609e81941ed47871d2ef4995fe66ce3214`,
      password: 'password5',
    },
    {
      name: 'argon2id',
      spec: { argon2id: { saltLen: 10, keyLen: 32, time: 2, memory: 1024, threads: 4 } },
      stored: `${salt}1605ff1e733a407346decf21cfbf917fa1d328b3c65c294438637c925dde3876`,
      password: 'password6',
    },
  ];
  for (const c of cases) {
    it(`${c.name}: the right password matches, another does not`, async () => {
      const check = passwordCompiler(c.spec)(hex(c.stored));
      assert.equal(await check(Buffer.from(c.password)), true);
      assert.equal(await check(Buffer.from(`${c.password}x`)), false);
    });
    it(`${c.name}: a stored value of the wrong length is refused when compiled, naming the lengths`, () => {
      assert.throws(
        () => passwordCompiler(c.spec)(hex(c.stored).subarray(1)),
        /41 bytes.*saltLen 10.*keyLen 32/,
      );
    });
  }

  it('bcrypt ($2a$10$...) matches its password, and a value that is not a bcrypt hash is refused', async () => {
    const compile = passwordCompiler({ bcrypt: { cost: 10 } });
    const check = compile(Buffer.from('$2a$10$RE6MCaNm1a2spVmF6mLOr.OPj.2gSybZ7EbbfdGIp4t.PZptAOstO'));
    assert.equal(await check(Buffer.from('password1')), true);
    assert.equal(await check(Buffer.from('password2')), false);
    assert.throws(() => compile(Buffer.from('password1')), /not a bcrypt hash/);
  });

  it('plain passwords: only the same bytes match, whatever their length', () => {
    const check = passwordCompiler(undefined)(Buffer.from('password0'));
    assert.equal(check(Buffer.from('password0')), true);
    assert.equal(check(Buffer.from('password')), false);
    assert.equal(check(Buffer.from('password00')), false);
    assert.equal(check(Buffer.alloc(0)), false);
  });
});

describe('commonKeyCryptType', () => {
  it("decrypts AILERON's AES-CBC example (user7)", () => {
    const d = decrypter('AESCBC', Buffer.from('example_password').toString('base64'));
    assert.ok('decrypt' in d);
    const stored = Buffer.concat([Buffer.from('1234567890123456'), hex('6D3315B50BC5BDDB82DF7550A8B2D2B0')]);
    assert.equal(d.decrypt(stored).toString(), 'password7');
  });

  it('refuses a key of the wrong size and a secret without its type, saying which field', () => {
    const short = decrypter('AESGCM', Buffer.from('short').toString('base64'));
    assert.ok('problem' in short && short.field === 'cryptSecret' && /16, 24 or 32-byte/.test(short.problem));
    const typeless = decrypter('CommonKeyCryptTypeUnknown', Buffer.alloc(16).toString('base64'));
    assert.ok('problem' in typeless && typeless.field === 'commonKeyCryptType');
  });

  it('a GCM value that was tampered with does not decrypt', () => {
    const d = decrypter('AESGCM', Buffer.alloc(32, 1).toString('base64'));
    assert.ok('decrypt' in d);
    assert.throws(() => d.decrypt(randomBytes(40)));
  });
});

describe('encodings', () => {
  const all: Encoding[] = [
    'Base16',
    'Base32',
    'Base32Hex',
    'Base32Escaped',
    'Base32HexEscaped',
    'Base64',
    'Base64Raw',
    'Base64URL',
    'Base64RawURL',
  ];
  it('decode what encode writes, for every length up to 40 bytes', () => {
    for (const e of all)
      for (let n = 0; n <= 40; n++) {
        const bytes = randomBytes(n);
        assert.deepEqual(decode(e, encode(e, bytes)), bytes, `${e} of ${n} bytes`);
      }
  });
  it('refuse text that is not valid in the encoding', () => {
    assert.equal(decode('Base16', 'abc'), undefined);
    assert.equal(decode('Base16', 'zz'), undefined);
    assert.equal(decode('Base64', 'abc'), undefined);
    assert.equal(decode('Base64', 'ab-_'), undefined);
    assert.equal(decode('Base32', 'MZXW6='), undefined);
    assert.equal(decode('Base32', 'MZXW6=1='), undefined);
    assert.deepEqual(decode('Base32', 'MZXW6==='), Buffer.from('foo'));
    assert.deepEqual(decode('Base32', 'MZXW6YQ='), Buffer.from('foob'));
    assert.deepEqual(decode('Base16', 'ABCDEF'), hex('abcdef'));
  });
});

describe('VerifiedCache', () => {
  it('remembers a verification for ttl, then forgets it', () => {
    let now = 0;
    const cache = new VerifiedCache({ maxEntries: 10, ttlMs: 1000, now: () => now });
    const key = cache.keyOf('alice', Buffer.from('pw'));
    assert.equal(cache.has(key), false);
    cache.add(key);
    now = 999;
    assert.equal(cache.has(key), true);
    now = 1000;
    assert.equal(cache.has(key), false);
  });
  it('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new VerifiedCache({ maxEntries: 2, ttlMs: 60_000 });
    const [a, b, c] = ['a', 'b', 'c'].map((u) => cache.keyOf(u, Buffer.from('pw'))) as [
      string,
      string,
      string,
    ];
    cache.add(a);
    cache.add(b);
    assert.equal(cache.has(a), true); // a is now the most recent
    cache.add(c);
    assert.equal(cache.size, 2);
    assert.equal(cache.has(b), false);
    assert.equal(cache.has(a), true);
  });
  it('keys differ by user and by password, and hold neither', () => {
    const cache = new VerifiedCache({ maxEntries: 2, ttlMs: 1 });
    const k = cache.keyOf('alice', Buffer.from('secret'));
    assert.notEqual(k, cache.keyOf('alice', Buffer.from('secret2')));
    assert.notEqual(k, cache.keyOf('alic', Buffer.from('esecret')));
    assert.ok(!k.includes('alice') && !k.includes('secret'));
  });
});

describe('UserTable', () => {
  const table = new Map([
    ['alice', { name: 'alice', secret: Buffer.from('stored'), attrs: undefined, source: 'f:1' }],
  ]);
  /** A costly check that counts its runs and matches the password "right". */
  function counting() {
    const counter = { runs: 0 };
    const compile = () => async (password: Buffer) => {
      counter.runs++;
      await new Promise((r) => setImmediate(r));
      return password.toString() === 'right';
    };
    return { counter, compile };
  }

  it('concurrent requests with the same credentials share one costly check; then the cache answers', async () => {
    const { counter, compile } = counting();
    const users = new UserTable(table, compile, new VerifiedCache({ maxEntries: 10, ttlMs: 60_000 }), false);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => users.verify('alice', Buffer.from('right'))),
    );
    assert.ok(results.every((u) => u?.name === 'alice'));
    assert.equal(counter.runs, 1);
    assert.equal(
      (users.verify('alice', Buffer.from('right')) as { name: string }).name,
      'alice',
      'from the cache, synchronously',
    );
    assert.equal(counter.runs, 1);
  });

  it('wrong passwords are checked each time and never cached; an unknown user costs a check too', async () => {
    const { counter, compile } = counting();
    const users = new UserTable(table, compile, new VerifiedCache({ maxEntries: 10, ttlMs: 60_000 }), false);
    assert.equal(await users.verify('alice', Buffer.from('wrong')), undefined);
    assert.equal(await users.verify('alice', Buffer.from('wrong')), undefined);
    assert.equal(await users.verify('mallory', Buffer.from('right')), undefined);
    assert.equal(counter.runs, 3);
  });
});
