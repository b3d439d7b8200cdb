/**
 * Prints an access token for examples/oauth-resource-server, signed with the example's demo key (keys/private.pem,
 * kid demo-key-1): what an OpenID Provider would issue. Run from the repository root:
 *
 *   node examples/oauth-resource-server/mint.js                 # sub alice, scope orders:read, valid 5 min
 *   node examples/oauth-resource-server/mint.js bob other 60    # sub bob, scope other, valid 60 s
 *   node examples/oauth-resource-server/mint.js alice orders:read -60   # expired a minute ago
 *
 * The key is a demo key, published in this repository: never trust it anywhere else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';

const [sub = 'alice', scope = 'orders:read', seconds = '300'] = process.argv.slice(2);
const key = await jose.importPKCS8(
  readFileSync(join(import.meta.dirname, 'keys/private.pem'), 'utf8'),
  'ES256',
);
const now = Math.floor(Date.now() / 1000);
const token = await new jose.SignJWT({ scope })
  .setProtectedHeader({ alg: 'ES256', kid: 'demo-key-1', typ: 'at+jwt' })
  .setIssuer('https://idp.example')
  .setAudience('orders-api')
  .setSubject(sub)
  .setIssuedAt(now)
  .setExpirationTime(now + Number(seconds))
  .sign(key);
process.stdout.write(`${token}\n`);
