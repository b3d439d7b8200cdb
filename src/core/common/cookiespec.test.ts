import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request } from '../roles.ts';
import {
  type CookieSpec,
  CookieWriter,
  cameOverTLS,
  cookiesStartingWith,
  DefaultCookie,
} from './cookiespec.ts';

function request(rawHeaders: string[], options: { tls?: boolean; trusted?: boolean } = {}): Request {
  return {
    rawHeaders,
    socket: { encrypted: options.tls === true },
    ctx: { client: { peerTrusted: options.trusted === true } },
  } as unknown as Request;
}

const spec = (fields: Partial<CookieSpec>): CookieSpec => ({ ...DefaultCookie, ...fields });

describe('CookieWriter', () => {
  it('secure defaults: Path=/, HttpOnly, SameSite=Lax; Secure as asked', () => {
    const w = new CookieWriter(DefaultCookie);
    assert.equal(w.cookie('a', 'b', false), 'a=b; Path=/; HttpOnly; SameSite=Lax');
    assert.equal(w.cookie('a', 'b', true), 'a=b; Path=/; HttpOnly; SameSite=Lax; Secure');
    assert.equal(w.expired('a', true), 'a=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure');
    assert.equal(w.hostPrefixable, true);
  });

  it('every attribute of the spec; an expired cookie keeps Path and Domain, not Max-Age', () => {
    const w = new CookieWriter(
      spec({ path: '/app', domain: 'example.com', maxAge: 60, httpOnly: false, sameSite: 'Strict' }),
    );
    assert.equal(
      w.cookie('a', 'b', false),
      'a=b; Path=/app; Domain=example.com; Max-Age=60; SameSite=Strict',
    );
    assert.equal(w.expired('a', false), 'a=; Path=/app; Domain=example.com; SameSite=Strict; Max-Age=0');
    assert.equal(w.hostPrefixable, false);
    assert.equal(
      new CookieWriter(spec({ maxAge: -1 })).cookie('a', 'b', false),
      'a=b; Path=/; Max-Age=0; HttpOnly; SameSite=Lax',
    );
    assert.equal(
      new CookieWriter(spec({ sameSite: 'Default' })).cookie('a', 'b', false),
      'a=b; Path=/; HttpOnly',
    );
  });

  it('expiresIn sets Expires from now', () => {
    const line = new CookieWriter(spec({ expiresIn: 3600 })).cookie('a', 'b', false);
    const expires = Date.parse(/Expires=([^;]+)/.exec(line)![1]!);
    assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 2000, line);
  });

  it('Secure: as written; unset = the request came over TLS; always with SameSite=None', () => {
    const plain = request([]);
    const tls = request([], { tls: true });
    assert.equal(new CookieWriter(DefaultCookie).secureFor(plain), false);
    assert.equal(new CookieWriter(DefaultCookie).secureFor(tls), true);
    assert.equal(new CookieWriter(spec({ secure: true })).secureFor(plain), true);
    assert.equal(new CookieWriter(spec({ secure: false })).secureFor(tls), false);
    assert.equal(new CookieWriter(spec({ sameSite: 'None', secure: false })).secureFor(plain), true);
  });
});

describe('cameOverTLS', () => {
  it('believes X-Forwarded-Proto only from a trusted proxy, and only its first hop', () => {
    const xfp = (v: string) => ['X-Forwarded-Proto', v];
    assert.equal(cameOverTLS(request(xfp('https'))), false);
    assert.equal(cameOverTLS(request(xfp('https'), { trusted: true })), true);
    assert.equal(cameOverTLS(request(xfp('HTTPS, http'), { trusted: true })), true);
    assert.equal(cameOverTLS(request(xfp('http, https'), { trusted: true })), false);
    assert.equal(cameOverTLS(request([], { trusted: true })), false);
  });
});

describe('cookiesStartingWith', () => {
  it('finds the cookies of a prefix across Cookie lines, unquoted, in order; undefined when none', () => {
    const req = request(['Cookie', 'a=1; s0=x; other=2', 'Host', 'h', 'cookie', 's1="y"; s=z; bad']);
    assert.deepEqual(cookiesStartingWith(req, 's'), [
      ['s0', 'x'],
      ['s1', 'y'],
      ['s', 'z'],
    ]);
    assert.equal(cookiesStartingWith(req, 'zz'), undefined);
    assert.equal(cookiesStartingWith(request(['Host', 'h']), 's'), undefined);
  });
});
