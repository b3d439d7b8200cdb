/**
 * The authorization code flow end to end, with a scripted user agent (test/helpers/oidcuser.ts) against a real
 * OpenID Provider (oidc-provider) and a gateway process: login with state, nonce and PKCE (S256), the tokens
 * forwarded upstream, userinfo, refresh ahead of expiry, logout at the provider; and the attacks a browser would
 * not make: a replayed callback, a changed nonce, an open redirect, tampered tokens and cookies. After each
 * refused attempt the upstream has seen nothing. (test/e2e/oauth/browser.test.ts drives Chromium.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { random } from '../../helpers/config-fuzz.ts';
import type { OPKoaContext } from '../../helpers/oidc.ts';
import { UserAgent } from '../../helpers/oidcuser.ts';
import { type AuthcodeSetup, ClientId, payloadOf, startAuthcode } from './authcode-fixtures.ts';

const isCallback = (u: URL) => u.pathname === '/auth/callback';

describe('authorization code flow (scripted user agent, real OP)', () => {
  let s: AuthcodeSetup;
  /** When set, the OP's token responses are changed by it (tampered tokens). */
  let tamper: ((body: Record<string, unknown>) => unknown) | undefined;

  before(async () => {
    s = await startAuthcode({
      // max_age asked: the ID token must say when the user authenticated.
      handler: () => '    urlParams: ["max_age=600"]',
      op: {
        middleware: [
          async (ctx: OPKoaContext, next: () => Promise<void>) => {
            await next();
            if (tamper !== undefined && ctx.path === '/token' && ctx.status === 200)
              await tamper(ctx.body as Record<string, unknown>);
          },
        ],
      },
    });
  });
  after(async () => {
    await s?.close();
  });

  it('logs in with state, nonce and S256 PKCE, returns to the page asked for, and forwards the tokens', async () => {
    const ua = new UserAgent();
    const before = s.upstream.requests.length;
    const first = await ua.request(`${s.gateway}/app/page?x=1`);
    assert.equal(first.status, 302);
    const authz = new URL(first.location!);
    assert.equal(authz.origin, s.op.issuer);
    assert.equal(authz.searchParams.get('client_id'), ClientId);
    assert.equal(authz.searchParams.get('response_type'), 'code');
    assert.equal(authz.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authz.searchParams.get('code_challenge')!, /^[\w-]{43}$/);
    assert.match(authz.searchParams.get('state')!, /^[\w-]{112}$/);
    assert.match(authz.searchParams.get('nonce')!, /^[\w-]{43}$/);
    assert.equal(authz.searchParams.get('redirect_uri'), s.callbackURL);
    assert.equal(authz.searchParams.get('scope'), 'openid profile');
    assert.equal(s.upstream.requests.length, before, 'nothing reaches the upstream before login');

    const hops = await ua.browse(first.location!);
    const callback = hops.find((h) => isCallback(new URL(h.url)));
    assert.ok(callback, 'the OP sent the browser back to the callback');
    assert.equal(callback.status, 302);
    assert.equal(callback.location, `${s.gateway}/app/page?x=1`);
    const last = hops.at(-1)!;
    assert.equal(last.status, 200);
    const seen = s.upstream.requests.at(-1)!;
    assert.equal(seen.path, '/app/page?x=1');
    const at = seen.headers['x-access-token'] as string;
    const idt = seen.headers['x-id-token'] as string;
    assert.equal(payloadOf(idt).sub, 'alice');
    assert.equal(payloadOf(idt).nonce, authz.searchParams.get('nonce'));
    assert.equal(payloadOf(idt).aud, ClientId);
    assert.equal(payloadOf(at).sub, 'alice');

    // Logged in: the next request goes straight through, and the login path sends the browser on.
    const again = await ua.request(`${s.gateway}/other`);
    assert.equal(again.status, 200);
    assert.equal(s.upstream.requests.at(-1)!.path, '/other');
    const login = await ua.request(`${s.gateway}/auth/login`);
    assert.equal(login.status, 302);
    assert.equal(login.location, `${s.gateway}/`);
  });

  it('keeps no token in the session cookie in clear', async () => {
    const ua = new UserAgent();
    await ua.browse(`${s.gateway}/page`);
    const at = s.upstream.requests.at(-1)!.headers['x-access-token'] as string;
    const cookies = ua.cookieHeader(new URL(s.gateway));
    assert.ok(cookies.length > 0);
    const signature = at.split('.')[2]!;
    assert.ok(!decodeURIComponent(cookies).includes(signature));
  });

  it('completes two logins started side by side (two tabs), each back to its own page', async () => {
    const ua = new UserAgent();
    const tabA = await ua.request(`${s.gateway}/tab/a`);
    const tabB = await ua.request(`${s.gateway}/tab/b`);
    // B first: the user signs in there; A then goes through the provider session without a form.
    const hopsB = await ua.browse(tabB.location!, { stopAt: isCallback });
    const hopsA = await ua.browse(tabA.location!, { stopAt: isCallback });
    const doneB = await ua.request(hopsB.at(-1)!.location!);
    assert.equal(doneB.location, `${s.gateway}/tab/b`);
    const doneA = await ua.request(hopsA.at(-1)!.location!);
    assert.equal(doneA.location, `${s.gateway}/tab/a`);
  });

  it('refuses a replayed callback (401), in a new session or in one with its own login under way', async () => {
    const victim = new UserAgent();
    const hops = await victim.browse(`${s.gateway}/page`, { stopAt: isCallback });
    const callbackURL = hops.at(-1)!.location!;
    assert.ok(isCallback(new URL(callbackURL)));
    const before = s.upstream.requests.length;

    const attacker = new UserAgent();
    const fresh = await attacker.request(callbackURL);
    assert.equal(fresh.status, 401);
    assert.doesNotMatch(fresh.body, /at |stack|Error:/);

    const other = new UserAgent();
    await other.request(`${s.gateway}/page`); // a login of its own: a state in its session
    const mismatch = await other.request(callbackURL);
    assert.equal(mismatch.status, 401);

    // The victim's own callback is used once; a second time, the state is gone with the first.
    const once = await victim.request(callbackURL);
    assert.equal(once.status, 302);
    const twice = new UserAgent();
    assert.equal((await twice.request(callbackURL)).status, 401);
    assert.equal(s.upstream.requests.length, before, 'nothing reached the upstream');
  });

  it('refuses an ID token whose nonce is not the one sent (401)', async () => {
    const ua = new UserAgent();
    const first = await ua.request(`${s.gateway}/page`);
    const authz = new URL(first.location!);
    authz.searchParams.set('nonce', 'a-nonce-of-the-attacker-aaaaaaaaaaaaaaaaaaaa');
    const before = s.upstream.requests.length;
    const hops = await ua.browse(authz.toString());
    const callback = hops.find((h) => isCallback(new URL(h.url)))!;
    assert.equal(callback.status, 401);
    assert.equal(s.upstream.requests.length, before);
  });

  for (const target of ['//evil.example/', '/\\evil.example/', '/\t/evil.example', 'https://evil.example/'])
    it(`refuses the post-login target ${JSON.stringify(target)} (401, no redirect)`, async () => {
      const ua = new UserAgent();
      const res = await ua.request(`${s.gateway}/auth/login?rd=${encodeURIComponent(target)}`);
      assert.equal(res.status, 401);
      assert.equal(res.location, undefined);
    });

  it('sends the browser to an allowed rd after login', async () => {
    const ua = new UserAgent();
    const hops = await ua.browse(`${s.gateway}/auth/login?rd=${encodeURIComponent('/welcome?a=b')}`);
    const callback = hops.find((h) => isCallback(new URL(h.url)))!;
    assert.equal(callback.location, `${s.gateway}/welcome?a=b`);
    assert.equal(s.upstream.requests.at(-1)!.path, '/welcome?a=b');
  });

  for (const [name, change] of [
    ['an ID token with a changed signature', (b: Record<string, unknown>) => (b.id_token = flip(b.id_token))],
    ['an ID token with changed claims', (b: Record<string, unknown>) => (b.id_token = reclaim(b.id_token))],
    [
      'an access token with a changed signature',
      (b: Record<string, unknown>) => (b.access_token = flip(b.access_token)),
    ],
  ] as const)
    it(`refuses ${name} from the token endpoint (401), nothing upstream`, async (t) => {
      tamper = change;
      t.after(() => (tamper = undefined));
      const ua = new UserAgent();
      const before = s.upstream.requests.length;
      const hops = await ua.browse(`${s.gateway}/page`);
      const callback = hops.find((h) => isCallback(new URL(h.url)))!;
      assert.equal(callback.status, 401);
      assert.equal(s.upstream.requests.length, before);
    });

  /** The token response's ID token replaced by one the OP's key signs, with these claims changed. */
  const reissue =
    (change: (claims: Record<string, unknown>, at: string) => Record<string, unknown>) =>
    async (b: Record<string, unknown>) => {
      const claims = payloadOf(String(b.id_token));
      b.id_token = await s.op.mint(change(claims, String(b.access_token)) as never);
    };
  const now = () => Math.floor(Date.now() / 1000);
  const atHash = (at: string) =>
    createHash('sha256').update(at).digest().subarray(0, 16).toString('base64url');
  for (const [name, change, status] of [
    ['another audience', (c: Record<string, unknown>) => ({ ...c, aud: 'other-client' }), 401],
    ['another issuer', (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example' }), 401],
    ['two audiences and no azp', (c: Record<string, unknown>) => ({ ...c, aud: [ClientId, 'other'] }), 401],
    ['an azp of another client', (c: Record<string, unknown>) => ({ ...c, azp: 'other' }), 401],
    ['exp a minute ago', (c: Record<string, unknown>) => ({ ...c, exp: now() - 60 }), 401],
    ['exp 2 s ago (within the 5 s leeway)', (c: Record<string, unknown>) => ({ ...c, exp: now() - 2 }), 302],
    ['iat a minute ahead', (c: Record<string, unknown>) => ({ ...c, iat: now() + 60 }), 401],
    ['nbf a minute ahead', (c: Record<string, unknown>) => ({ ...c, nbf: now() + 60 }), 401],
    [
      'an at_hash of another access token',
      (c: Record<string, unknown>) => ({ ...c, at_hash: atHash('other') }),
      401,
    ],
    [
      'the at_hash of its access token',
      (c: Record<string, unknown>, at: string) => ({ ...c, at_hash: atHash(at) }),
      302,
    ],
    [
      'an auth_time older than max_age',
      (c: Record<string, unknown>) => ({ ...c, auth_time: now() - 3600 }),
      401,
    ],
    ['no auth_time (max_age asked)', (c: Record<string, unknown>) => ({ ...c, auth_time: undefined }), 401],
  ] as const)
    it(`${status === 302 ? 'accepts' : 'refuses'} an ID token with ${name} (${status})`, async (t) => {
      tamper = reissue(change);
      t.after(() => (tamper = undefined));
      const ua = new UserAgent();
      const before = s.upstream.requests.length;
      const hops = await ua.browse(`${s.gateway}/page`);
      const callback = hops.find((h) => isCallback(new URL(h.url)))!;
      assert.equal(callback.status, status);
      assert.equal(s.upstream.requests.length, before + (status === 302 ? 1 : 0));
    });

  it('starts a new login for a tampered session cookie (never 500), nothing upstream', async () => {
    const ua = new UserAgent();
    await ua.browse(`${s.gateway}/page`);
    const cookie = ua.cookieHeader(new URL(s.gateway));
    const [name, value] = cookie.split('; ')[0]!.split('=') as [string, string];
    const changed = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
    const before = s.upstream.requests.length;
    const res = await fetch(`${s.gateway}/page`, {
      headers: { cookie: `${name}=${changed}` },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 302);
    assert.equal(new URL(res.headers.get('location')!).origin, s.op.issuer);
    assert.equal(s.upstream.requests.length, before);
  });

  it('answers 200 random callbacks (seeded) with 401, never 500, nothing upstream', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261206);
    const r = random(seed);
    const pieces = [
      'code=',
      'state=',
      'error=',
      'response=',
      '&',
      '=',
      '%',
      '%00',
      '%ZZ',
      'a',
      '.',
      '+',
      '#',
      '\u00e9',
      'x'.repeat(300),
    ];
    const ua = new UserAgent();
    await ua.request(`${s.gateway}/page`); // a login under way: a state in the session
    const before = s.upstream.requests.length;
    for (let n = 0; n < 200; n++) {
      let q = '';
      for (let i = r.int(10); i > 0; i--) q += r.pick(pieces);
      const res = await ua.request(`${s.gateway}/auth/callback?${encodeURI(q)}`);
      assert.equal(res.status, 401, `seed ${seed}, query ${q}`);
      if (n % 20 === 0) await ua.request(`${s.gateway}/page`); // and again a login under way
    }
    assert.equal(s.upstream.requests.length, before);
  });

  it('logs out: session ended, the provider end_session_endpoint with id_token_hint, then logged out there too', async () => {
    const ua = new UserAgent();
    await ua.browse(`${s.gateway}/page`);
    const idt = s.upstream.requests.at(-1)!.headers['x-id-token'] as string;
    const out = await ua.request(`${s.gateway}/auth/logout`);
    assert.equal(out.status, 302);
    const end = new URL(out.location!);
    assert.equal(`${end.origin}${end.pathname}`, `${s.op.issuer}/session/end`);
    assert.equal(end.searchParams.get('id_token_hint'), idt);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${s.upstream.url}/logged-out`);
    assert.equal(end.searchParams.get('client_id'), ClientId);
    // The session cookie is expired: the gateway has forgotten the user.
    assert.equal(ua.cookieHeader(new URL(s.gateway)), '');

    const hops = await ua.browse(out.location!);
    assert.equal(hops.at(-1)!.url, `${s.upstream.url}/logged-out`);
    // A new request needs a new login, and the OP asks for the password again (its session ended too).
    const again = await ua.request(`${s.gateway}/page`);
    assert.equal(again.status, 302);
    const relogin = await ua.browse(again.location!, { max: 3 });
    assert.ok(
      relogin.some((h) => /name="login"/.test(h.body)),
      'the OP shows its login form again',
    );
  });
});

describe('authorization code flow: opaque access tokens (introspection) and userinfo', () => {
  let s: AuthcodeSetup;
  before(async () => {
    // Opaque access tokens, as most providers give for their userinfo endpoint: checked by introspection.
    s = await startAuthcode({
      op: { jwtAccessTokens: [] },
      context: '      enableIntrospection: true\n      tokenIntrospector: {clientAuthMethod: BasicAuth}',
    });
  });
  after(async () => {
    await s?.close();
  });

  it('logs in and forwards the opaque access token', async () => {
    const ua = new UserAgent();
    const hops = await ua.browse(`${s.gateway}/page`);
    assert.equal(hops.at(-1)!.status, 200);
    const at = s.upstream.requests.at(-1)!.headers['x-access-token'] as string;
    assert.doesNotMatch(at, /\./, 'not a JWT');
    assert.ok(s.op.requests('/token/introspection') >= 1);
  });

  it('answers userinfoPath with the provider userinfo of the user', async () => {
    const ua = new UserAgent();
    await ua.browse(`${s.gateway}/page`);
    const info = await ua.request(`${s.gateway}/auth/userinfo`);
    assert.equal(info.status, 200);
    assert.match(info.headers.get('content-type')!, /^application\/json/);
    assert.equal(JSON.parse(info.body).sub, 'alice');
  });
});

describe('authorization code flow: restoreRequest and redirectPath (with enabledFAPI)', () => {
  let s: AuthcodeSetup;
  before(async () => {
    s = await startAuthcode({
      handler: () => '    redirectPath: /home\n    restoreRequest: true\n    enabledFAPI: true',
    });
  });
  after(async () => {
    await s?.close();
  });

  it('comes back to the URL asked for (restoreRequest wins over redirectPath); the login path goes to redirectPath', async () => {
    const ua = new UserAgent();
    const hops = await ua.browse(`${s.gateway}/orders/7?view=full`);
    const callback = hops.find((h) => isCallback(new URL(h.url)))!;
    assert.equal(callback.location, `${s.gateway}/orders/7?view=full`);
    assert.equal(s.upstream.requests.at(-1)!.path, '/orders/7?view=full');

    const other = new UserAgent();
    const viaLogin = await other.browse(`${s.gateway}/auth/login`);
    assert.equal(viaLogin.find((h) => isCallback(new URL(h.url)))!.location, `${s.gateway}/home`);
  });
});

describe('authorization code flow with server-side sessions (MemoryStorage)', () => {
  let s: AuthcodeSetup;
  before(async () => {
    s = await startAuthcode({ serverSessions: true });
  });
  after(async () => {
    await s?.close();
  });

  it('logs in with a new session id (fixation), and logout ends that session on the server', async () => {
    const ua = new UserAgent();
    const first = await ua.request(`${s.gateway}/page`);
    const before = ua.cookieHeader(new URL(s.gateway));
    assert.match(before, /_SESSION=/);
    await ua.browse(first.location!);
    const after = ua.cookieHeader(new URL(s.gateway));
    assert.notEqual(after, before, 'the session id changed at login');
    assert.equal(s.upstream.requests.at(-1)!.path, '/page');

    // The id known before login is worth nothing: it starts a new login.
    const fixated = await fetch(`${s.gateway}/page`, {
      headers: { cookie: before },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(fixated.status, 302);
    assert.equal(new URL(fixated.headers.get('location')!).origin, s.op.issuer);

    await ua.request(`${s.gateway}/auth/logout`);
    // The id used after login is worth nothing after logout either, even if a copy of the cookie was kept.
    const kept = await fetch(`${s.gateway}/page`, {
      headers: { cookie: after },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(kept.status, 302);
    assert.equal(new URL(kept.headers.get('location')!).origin, s.op.issuer);
  });
});

describe('authorization code flow: refresh ahead of expiry', () => {
  let s: AuthcodeSetup;
  before(async () => {
    s = await startAuthcode({
      // An access token that is always within the refresh margin (30 s): every request refreshes it.
      op: { accessTokenTTL: 20 },
      scopes: ['openid', 'offline_access'],
      handler: () => '    urlParams: ["prompt=consent"]',
    });
  });
  after(async () => {
    await s?.close();
  });

  it('refreshes the access token before it expires, and forwards the new one', async () => {
    const ua = new UserAgent();
    await ua.browse(`${s.gateway}/page`);
    const first = s.upstream.requests.at(-1)!.headers['x-access-token'] as string;
    const tokenCalls = s.op.requests('/token');
    const res = await ua.request(`${s.gateway}/next`);
    assert.equal(res.status, 200);
    assert.equal(s.op.requests('/token'), tokenCalls + 1, 'one refresh_token call');
    const second = s.upstream.requests.at(-1)!.headers['x-access-token'] as string;
    assert.notEqual(second, first);
    assert.equal(payloadOf(second).sub, 'alice');
  });
});

function flip(jwt: unknown): string {
  const t = String(jwt);
  const sig = t.lastIndexOf('.') + 5;
  return `${t.slice(0, sig)}${t[sig] === 'A' ? 'B' : 'A'}${t.slice(sig + 1)}`;
}

function reclaim(jwt: unknown): string {
  const [h, p, sig] = String(jwt).split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8'));
  claims.sub = 'mallory';
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
}
