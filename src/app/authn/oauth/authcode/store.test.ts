/** Where the tokens are kept: sealed in cookie sessions, as they are in server-side ones; unreadable = none. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Session } from '../../../session.ts';
import { TokenSeal } from './sealed.ts';
import { TokenStore, TokensKey } from './store.ts';

function session(id: string): Session & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    id,
    isNew: false,
    data,
    get: <T>(k: string) => data.get(k) as T | undefined,
    set: (k, v) => void data.set(k, v),
    delete: (k) => void data.delete(k),
    destroy: () => data.clear(),
    rotate: () => {},
  };
}

const tokens = {
  context: 'default',
  at: 'AT',
  idt: 'IDT',
  rt: 'RT',
  at_exp: 1,
  idt_claims: { sub: 'alice' },
};

describe('token store', () => {
  it('seals tokens in a cookie session (id ""), once warning about a generated key', () => {
    let warned = 0;
    const store = new TokenStore(new TokenSeal(randomBytes(32)), () => warned++);
    const s = session('');
    store.set(s, tokens);
    store.set(s, tokens);
    assert.equal(warned, 1);
    const raw = s.data.get(TokensKey);
    assert.equal(typeof raw, 'string');
    assert.doesNotMatch(String(raw), /AT|RT|alice/);
    assert.deepEqual(store.get(s), tokens);
  });

  it('keeps tokens as they are in a server-side session', () => {
    const store = new TokenStore(new TokenSeal(randomBytes(32)));
    const s = session('abc');
    store.set(s, tokens);
    assert.deepEqual(s.data.get(TokensKey), tokens);
    assert.deepEqual(store.get(s), tokens);
    store.delete(s);
    assert.equal(store.get(s), undefined);
  });

  it('gives nothing for a value it cannot read', () => {
    const store = new TokenStore(new TokenSeal(randomBytes(32)));
    const cookie = session('');
    cookie.data.set(TokensKey, tokens); // a client-made value in an unauthenticated cookie: not sealed
    assert.equal(store.get(cookie), undefined);
    const server = session('abc');
    for (const bad of [null, 'x', [], { context: 1 }, { context: 'd', at: 5 }]) {
      server.data.set(TokensKey, bad);
      assert.equal(store.get(server), undefined, JSON.stringify(bad));
    }
  });
});
