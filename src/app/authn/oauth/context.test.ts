/**
 * The token-validation core of an OAuth context (what every flow and the authorization code flow call), against a
 * real OpenID Provider's keys (oidc-provider, JWKS by discovery): ID token checks (issuer, audience, leeway, iat,
 * azp, nonce, at_hash, max_age) and AILERON's validOauthClaims outcomes (re-authentication or refusal).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { memoryLogger } from '../../../../test/helpers/memory-logger.ts';
import { startOP, type TestOP } from '../../../../test/helpers/oidc.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import { check } from '../../../kernel/schema.ts';
import { ContextSpec } from './api.ts';
import { createOAuthContext, leftHalfHash, type OAuthContext, ReauthRequired } from './context.ts';

const Validation = {
  skipUnexpired: false,
  iss: '',
  aud: 'gateway',
  expOptional: false,
  iatDisabled: false,
  leeway: 5,
  validMethods: [],
};

describe('OAuth context: token validation core', () => {
  let op: TestOP;
  let ctx: OAuthContext;
  const closers: Array<() => void | Promise<void>> = [];
  before(async () => {
    op = await startOP({
      clients: [{ client_id: 'gateway', client_secret: 'gateway-secret-gateway-secret-gateway' }],
    });
    const { value, problems } = check(ContextSpec, {
      provider: { issuer: op.issuer, endpoints: { discovery: op.discoveryURL } },
      client: { id: 'gateway' },
      atValidation: { ...Validation },
      idtValidation: { ...Validation },
    });
    assert.deepEqual(problems, []);
    ctx = await createOAuthContext(value as ContextSpec, {
      field: ['spec', 'contexts', 0],
      fail: (_f, message) => {
        throw new Error(message);
      },
      logger: memoryLogger('warn').logger,
      onClose: (fn) => closers.push(fn),
      env: {},
    });
  });
  after(async () => {
    for (const c of closers) await c();
    await op?.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const idt = (claims: Record<string, unknown> = {}) => op.mint({ sub: 'alice', aud: 'gateway', ...claims });
  async function refused(p: Promise<unknown>, reason: RegExp) {
    await assert.rejects(
      p,
      (err: unknown) => err instanceof GatewayError && err.status === 401 && reason.test(err.message),
    );
  }

  it('accepts a valid ID token; the issuer is the discovered one, the key from the JWKS', async () => {
    const claims = await ctx.verifyIdToken(await idt());
    assert.equal(claims.sub, 'alice');
    assert.equal(ctx.issuer, op.issuer);
  });

  it('applies the leeway (5 s) to exp, and refuses an iat in the future beyond it', async () => {
    await ctx.verifyIdToken(await idt({ exp: now() - 2 }));
    await refused(ctx.verifyIdToken(await idt({ exp: now() - 30 })), /exp/);
    await refused(ctx.verifyIdToken(await idt({ iat: now() + 60 })), /iat/);
    await refused(ctx.verifyIdToken(await idt({ aud: 'other' })), /aud/);
    // Another issuer: its keys are not looked for (no JWKS is known for it).
    await refused(ctx.verifyIdToken(await idt({ iss: 'https://other.example' })), /JWKS|iss/);
  });

  it('azp: must be the client when present or when aud has several entries', async () => {
    await ctx.verifyIdToken(await idt({ azp: 'gateway' }));
    await refused(ctx.verifyIdToken(await idt({ azp: 'someone' })), /azp/);
    await refused(ctx.verifyIdToken(await idt({ aud: ['gateway', 'other'] })), /azp/);
  });

  it('nonce and max_age when the caller asks; at_hash when the ID token has one', async () => {
    await ctx.verifyIdToken(await idt({ nonce: 'n1' }), { nonce: 'n1' });
    await refused(ctx.verifyIdToken(await idt({ nonce: 'n1' }), { nonce: 'n2' }), /nonce/);
    await refused(ctx.verifyIdToken(await idt(), { nonce: 'n2' }), /nonce/);
    await ctx.verifyIdToken(await idt({ auth_time: now() - 10 }), { maxAge: 60 });
    await refused(ctx.verifyIdToken(await idt({ auth_time: now() - 600 }), { maxAge: 60 }), /max_age/);
    await refused(ctx.verifyIdToken(await idt(), { maxAge: 60 }), /auth_time/);
    const at = 'an-access-token';
    const atHash = createHash('sha256').update(at).digest().subarray(0, 16).toString('base64url');
    assert.equal(leftHalfHash(at, 'RS256'), atHash);
    await ctx.verifyIdToken(await idt({ at_hash: atHash }), {}, at);
    await refused(ctx.verifyIdToken(await idt({ at_hash: atHash }), {}, 'another-token'), /at_hash/);
  });

  it('validateTokens: no tokens or an invalid AT without RT need a new login; an invalid ID token is refused', async () => {
    await assert.rejects(ctx.validateTokens({ context: 'default' }), ReauthRequired);
    await assert.rejects(ctx.validateTokens({ context: 'default', at: 'garbage' }), ReauthRequired);
    const at = await op.mint({ sub: 'alice', aud: 'gateway' });
    const ok = await ctx.validateTokens({ context: 'default', at, idt: await idt() });
    assert.equal(ok.at_claims?.sub, 'alice');
    assert.equal(ok.idt_claims?.sub, 'alice');
    await assert.rejects(
      ctx.validateTokens({ context: 'default', at, idt: await idt({ aud: 'other' }) }),
      (err: unknown) => err instanceof GatewayError && err.status === 401,
    );
  });

  it('validateTokens: compares at_hash with the access token issued beside the ID token, not a refreshed one', async () => {
    const at = await op.mint({ sub: 'alice', aud: 'gateway' });
    const hashOf = (token: string) => leftHalfHash(token, 'RS256');
    const paired = await idt({ at_hash: hashOf(at) });
    await ctx.validateTokens({ context: 'default', at, idt: paired });
    // Another token beside that ID token: refused while they claim to be a pair ...
    const other = await op.mint({ sub: 'alice', aud: 'gateway', jti: 'another' });
    await assert.rejects(
      ctx.validateTokens({ context: 'default', at: other, idt: paired }),
      (err: unknown) => err instanceof GatewayError && /at_hash/.test(err.message),
    );
    // ... accepted once a refresh that returned no ID token has marked the ID token as the older one.
    const refreshed = ctx.tokenSetFromResponse({ access_token: other, token_type: 'bearer' } as never, {
      context: 'default',
      at,
      idt: paired,
    });
    assert.equal(refreshed.idt_older, true);
    const ok = await ctx.validateTokens(refreshed);
    assert.equal(ok.at_claims?.sub, 'alice');
  });
});
