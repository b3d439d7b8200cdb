/**
 * The cookie store's reading of hostile input, driven directly (no server): the encoder round trip, each way a
 * cookie can be wrong, and a seeded, bounded fuzz of cookie headers (mutations of a valid session cookie and
 * random ones). Every one ends in a session (fresh unless it is the valid cookie); nothing throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { CookieWriter, DefaultCookie } from '../../../core/common/cookiespec.ts';
import type { Request } from '../../../core/roles.ts';
import { ChunkSize, CookieStore } from './cookiestore.ts';
import { SecureEncoder } from './encoder.ts';
import { Expiry } from './expiry.ts';
import { parsePayload } from './state.ts';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new SecureEncoder({
  hmac: { alg: 'SHA256', key: Buffer.alloc(64, 1) },
  cipher: { alg: 'AESGCM', key: Buffer.alloc(32, 2) },
  compress: true,
});

function store(enc = encoder): CookieStore {
  return new CookieStore(
    {
      cookieName: '_SESSION',
      cookie: new CookieWriter(DefaultCookie),
      expiry: new Expiry({ idleMs: 0, absoluteMs: 0 }),
      logger: memoryLogger().logger,
    },
    enc,
  );
}

/** What the store reads of a request: its raw headers, whether the socket is TLS, the client. */
function request(...cookieLines: string[]): Request {
  return {
    rawHeaders: cookieLines.flatMap((line) => ['Cookie', line]),
    socket: {},
    ctx: { client: { peerTrusted: false } },
  } as unknown as Request;
}

const valid = `_SESSION0=${encoder
  .encode(Buffer.from(JSON.stringify({ c: Date.now(), t: Date.now(), d: { user: 'alice', n: [1, 2] } })))
  .toString('base64url')}`;

describe('SecureEncoder', () => {
  it('round-trips with every cipher mode, with and without HMAC and gzip', () => {
    for (const alg of ['AESGCM', 'AESCBC', 'AESCFB', 'AESCTR', 'AESOFB'])
      for (const hmac of [undefined, { alg: 'SHA512', key: Buffer.alloc(64, 3) }])
        for (const compress of [false, true]) {
          const e = new SecureEncoder({ hmac, cipher: { alg, key: Buffer.alloc(16, 4) }, compress });
          const plain = Buffer.from(`hello ${alg}`.repeat(20));
          assert.deepEqual(e.decode(e.encode(plain)), plain, alg);
        }
  });

  it('refuses data made with other secrets, truncated or with a flipped bit', () => {
    const other = new SecureEncoder({
      hmac: { alg: 'SHA256', key: Buffer.alloc(64, 9) },
      cipher: { alg: 'AESGCM', key: Buffer.alloc(32, 2) },
      compress: true,
    });
    const data = encoder.encode(Buffer.from('{"c":1,"t":1,"d":{}}'));
    assert.equal(other.decode(data), undefined);
    assert.equal(encoder.decode(data.subarray(0, 10)), undefined);
    for (const i of [0, 15, data.length - 1]) {
      const flipped = Buffer.from(data);
      flipped[i]! ^= 1;
      assert.equal(encoder.decode(flipped), undefined, `bit flipped at ${i}`);
    }
  });

  it('GCM alone authenticates: with disableHMAC a changed cookie is still refused', () => {
    const gcm = new SecureEncoder({ cipher: { alg: 'AESGCM', key: Buffer.alloc(32, 2) }, compress: false });
    const data = gcm.encode(Buffer.from('{}'));
    data[14]! ^= 1;
    assert.equal(gcm.decode(data), undefined);
  });

  it('refuses a gzip bomb instead of inflating it', () => {
    const open = new SecureEncoder({ compress: true });
    const bomb = open.encode(Buffer.alloc(8 << 20));
    assert.ok(bomb.length < 16_384);
    assert.equal(open.decode(bomb), undefined);
  });
});

describe('session payloads', () => {
  it('accepts only {c, t, d} with integer times and an object of values; values are frozen', () => {
    const p = parsePayload('{"c":1,"t":2,"d":{"a":{"b":[1]}}}');
    assert.ok(p !== undefined);
    assert.ok(Object.isFrozen((p.d.a as { b: number[] }).b));
    for (const text of [
      '',
      'null',
      '[]',
      '{"c":1,"t":2}',
      '{"c":"1","t":2,"d":{}}',
      '{"c":1.5,"t":2,"d":{}}',
      '{"c":1,"t":2,"d":[]}',
    ])
      assert.equal(parsePayload(text), undefined, text);
  });

  it('a value named like an Object method is not found unless set', () => {
    const s = store().load(request(valid));
    assert.equal(s.get('toString'), undefined);
    assert.equal(s.get('__proto__'), undefined);
    assert.equal(s.get('user'), 'alice');
  });
});

describe('CookieStore reading', () => {
  it('reads a valid cookie, also split across Cookie lines (HTTP/2)', () => {
    assert.equal(store().load(request(valid)).isNew, false);
    assert.equal(
      store()
        .load(request('a=1', valid, 'b=2'))
        .get('user'),
      'alice',
    );
  });

  it('fuzz (seeded, bounded): hostile cookie headers give a session, fresh unless untouched, never a throw', () => {
    const next = random(20261206);
    const s = store();
    const alphabet = 'ABCxyz019-_=;, "%\u0000\u00ff_SESSION0123456789';
    const value = valid.slice('_SESSION0='.length);
    let fresh = 0;
    for (let i = 0; i < 3000; i++) {
      let header: string;
      const kind = i % 4;
      if (kind === 0) {
        // One character of the valid value changed.
        const at = Math.floor(next() * value.length);
        const c = alphabet[Math.floor(next() * alphabet.length)]!;
        header = `_SESSION0=${value.slice(0, at)}${c}${value.slice(at + 1)}`;
      } else if (kind === 1) {
        // Cut or extended.
        const at = Math.floor(next() * value.length);
        header = `_SESSION0=${next() < 0.5 ? value.slice(0, at) : value + value.slice(at)}`;
      } else if (kind === 2) {
        // Chunks in any order, count and size.
        const n = Math.floor(next() * 7);
        header = Array.from(
          { length: n },
          () => `_SESSION${Math.floor(next() * 6)}=${value.slice(0, Math.floor(next() * ChunkSize))}`,
        ).join('; ');
      } else {
        // Random text.
        const n = Math.floor(next() * 200);
        header = Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      }
      const state = s.load(request(header));
      if (state.isNew) fresh++;
      else assert.equal(state.get('user'), 'alice', header);
      // Saving what was read never throws either.
      assert.equal(typeof s.saveDue(state, Date.now()), 'boolean');
    }
    assert.ok(fresh > 2500, `${fresh} fresh sessions`);
  });
});
