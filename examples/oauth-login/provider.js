/**
 * The offline stand-in for a real identity provider and application, for examples/oauth-login:
 *
 * - an OpenID Provider (oidc-provider, a devDependency of this repository) on OP_PORT (default 9000) with its
 *   development login page (any user name, any password), one client `demo-web` whose redirect_uri is the
 *   gateway's callback, and JWT access tokens for that client;
 * - the application behind the gateway on APP_PORT (default 9001): it greets the user named in the ID token the
 *   gateway forwards (X-ID-Token) and serves /logged-out, where the provider sends the browser after logout.
 *
 * GATEWAY_URL (default http://localhost:8080) is where the gateway is reached; OP_URL and APP_URL (defaults
 * http://localhost:9000 and :9001) what the browser calls these two. Both listen on every interface (localhost
 * may be ::1 or 127.0.0.1). Run from the repository root:
 *   node examples/oauth-login/provider.js
 * Development only: in-memory provider state, a signing key made at start, a fixed cookie key.
 */
import { once } from 'node:events';
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const opPort = Number(process.env.OP_PORT ?? 9000);
const appPort = Number(process.env.APP_PORT ?? 9001);
const gateway = process.env.GATEWAY_URL ?? 'http://localhost:8080';
const issuer = process.env.OP_URL ?? `http://localhost:${opPort}`;
const app = process.env.APP_URL ?? `http://localhost:${appPort}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signing = { ...(await jose.exportJWK(privateKey)), kid: 'demo-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'demo-web',
      client_secret: 'demo-web-secret',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [`${gateway}/auth/callback`],
      post_logout_redirect_uris: [`${app}/logged-out`],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signing] },
  cookies: { keys: ['demo-only-cookie-key'] },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, name: sub.charAt(0).toUpperCase() + sub.slice(1) }),
  }),
  claims: { openid: ['sub'], profile: ['name'] },
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    // JWT access tokens whose audience is the client, which the gateway verifies with the provider's JWKS.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:demo:app',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: '', audience: 'demo-web', accessTokenFormat: 'jwt' }),
    },
  },
});

const op = http.createServer(provider.callback());
op.listen(opPort);

/** The application: who is logged in, from the ID token the gateway verified and forwarded. */
const application = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  if (req.url === '/logged-out') {
    res.end(
      `<!doctype html><title>Logged out</title><h1>Logged out</h1><a href="${gateway}/">Log in again</a>`,
    );
    return;
  }
  const idt = req.headers['x-id-token'];
  const claims = typeof idt === 'string' ? jose.decodeJwt(idt) : {};
  const name = String(claims.name ?? claims.sub ?? 'nobody').replace(/[<>&"]/g, '');
  res.end(
    `<!doctype html><title>Hello</title><h1 id="hello">Hello ${name}</h1>` +
      `<p>You asked for ${String(req.url).replace(/[<>&"]/g, '')}</p><a id="logout" href="/auth/logout">Log out</a>`,
  );
});
application.listen(appPort);

await Promise.all([once(op, 'listening'), once(application, 'listening')]);
console.log(
  `provider listening on ${issuer} (port ${op.address().port}), application on ${app} (port ${application.address().port})`,
);
