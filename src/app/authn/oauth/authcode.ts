/**
 * authorizationCodeHandler of OAuthAuthenticationHandler (aileron-app.md §1.7 A): browser login by the OAuth 2.0
 * / OpenID Connect authorization code flow, with request objects (JAR) and JWT responses (JARM) for FAPI. This
 * module reads and checks the configuration once at start-up; the flow itself is authcode/flow.ts.
 */
import { goRegExp, PatternError } from '../../../core/common/match.ts';
import { generatedSecret } from '../../../core/common/runsecret.ts';
import type { CreateContext, Fail } from '../../../kernel/resource.ts';
import type { FieldPath } from '../../../kernel/schema.ts';
import type { AuthorizationCodeHandlerSpec } from './api.ts';
import { AuthorizationCodeFlow } from './authcode/flow.ts';
import { TokenSeal } from './authcode/sealed.ts';
import { TokenStore } from './authcode/store.ts';
import { isSitePath, RedirectTargets } from './authcode/target.ts';
import { fetchThrough } from './fetch.ts';
import type { Flow, FlowBase } from './handler.ts';
import { RequestObjects } from './jar.ts';
import { JARMValidator } from './jarm.ts';
import { keyResolver, readJWTHandler, signingKeyOf } from './keys.ts';

const Field = ['spec', 'authorizationCodeHandler'] as const;
const at = (...path: (string | number)[]): FieldPath => [...Field, ...path];
const Base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The callbackURL as a URL; it must be absolute (the provider redirects the browser to it). */
function callbackOf(spec: AuthorizationCodeHandlerSpec, fail: Fail): URL {
  if (!URL.canParse(spec.callbackURL))
    fail(
      at('callbackURL'),
      spec.callbackURL === '' ? 'callbackURL is required' : 'callbackURL is not an absolute URL',
      {
        found: spec.callbackURL,
        hint: 'the URL the provider sends the browser back to, registered as its redirect_uri, e.g. https://gw.example/auth/callback',
      },
    );
  return new URL(spec.callbackURL);
}

/** urlParams (`k=v` each) as pairs, and the max_age among them. */
function urlParamsOf(spec: AuthorizationCodeHandlerSpec, fail: Fail) {
  const pairs: [string, string][] = [];
  let maxAge: number | undefined;
  spec.urlParams.forEach((p, i) => {
    for (const [k, v] of new URLSearchParams(p)) {
      if (k === '')
        fail(at('urlParams', i), 'a URL parameter needs a name', { found: p, hint: 'e.g. login_hint=alice' });
      if (k === 'max_age') {
        if (!/^\d{1,9}$/.test(v))
          fail(at('urlParams', i), 'max_age is a number of seconds', { found: p, hint: 'e.g. max_age=300' });
        maxAge = Number(v);
      }
      pairs.push([k, v]);
    }
  });
  return { pairs, maxAge };
}

/** Every start-up check that needs no object (also what `--validate` reports). */
export function checkAuthorizationCode(spec: AuthorizationCodeHandlerSpec, fail: Fail): void {
  callbackOf(spec, fail);
  urlParamsOf(spec, fail);
  if (spec.redirectPath !== '' && !isSitePath(spec.redirectPath))
    fail(at('redirectPath'), 'redirectPath must be a path of this site', {
      found: spec.redirectPath,
      hint: 'start with a single /, e.g. /home',
    });
  try {
    goRegExp(spec.redirectPathPattern);
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    fail(at('redirectPathPattern'), err.message, { hint: err.hint });
  }
  for (const name of ['loginPath', 'userInfoPath', 'logoutPath'] as const)
    if (spec[name] !== '' && !spec[name].startsWith('/'))
      fail(at(name), `${name} is a URL path`, { found: spec[name], hint: 'e.g. /auth/login' });
  if (
    spec.postLogoutRedirectURL !== '' &&
    !URL.canParse(spec.postLogoutRedirectURL) &&
    !isSitePath(spec.postLogoutRedirectURL)
  )
    fail(at('postLogoutRedirectURL'), 'postLogoutRedirectURL is an absolute URL or a path of this site', {
      found: spec.postLogoutRedirectURL,
    });
  if (
    spec.tokenSecret !== '' &&
    (!Base64.test(spec.tokenSecret) || Buffer.from(spec.tokenSecret, 'base64').length !== 32)
  )
    fail(at('tokenSecret'), 'tokenSecret is 32 bytes in base64', {
      hint: 'e.g. the output of openssl rand -base64 32',
    });
  const ro = spec.requestObject;
  if (ro !== undefined) {
    if (ro.requestURI !== '' && !URL.canParse(ro.requestURI))
      fail(at('requestObject', 'requestURI'), 'requestURI is an absolute URL of this gateway', {
        found: ro.requestURI,
        hint: 'the URL the provider fetches the request object from, e.g. https://gw.example/auth/request-uri',
      });
    const keys = readJWTHandler(ro.jwtHandler, at('requestObject', 'jwtHandler'), fail);
    if (keys.privateKeys.length === 0)
      fail(
        at('requestObject', 'jwtHandler', 'privateKeys'),
        'a request object needs a private key to sign it',
        {
          hint: 'privateKeys: [{algorithm: RS256, keyType: PRIVATE, keyFilePath: ./client.key}]',
        },
      );
  }
  if (spec.jarm !== undefined) readJWTHandler(spec.jarm.jwtHandler, at('jarm', 'jwtHandler'), fail);
}

export async function createAuthorizationCodeHandler(
  base: FlowBase,
  spec: AuthorizationCodeHandlerSpec,
  ctx: CreateContext,
): Promise<Flow> {
  const fail = ctx.fail;
  checkAuthorizationCode(spec, fail);
  const callback = callbackOf(spec, fail);
  const { pairs, maxAge } = urlParamsOf(spec, fail);

  let requestObjects: RequestObjects | undefined;
  const ro = spec.requestObject;
  if (ro !== undefined) {
    const keys = readJWTHandler(ro.jwtHandler, at('requestObject', 'jwtHandler'), fail);
    const key = await signingKeyOf(keys.privateKeys);
    if (key === undefined)
      return fail(at('requestObject', 'jwtHandler', 'privateKeys'), 'no usable private key');
    if (ro.exp === 0)
      ctx.logger.warn(
        'requestObject.exp is 0: request objects expire as they are made and providers refuse them',
        {
          fix: 'set requestObject.exp, e.g. 300',
        },
      );
    requestObjects = new RequestObjects({
      requestURI: ro.requestURI,
      key,
      exp: ro.exp,
      nbf: ro.nbf,
      disableCache: ro.disableCache,
    });
  }

  let jarm: JARMValidator | undefined;
  if (spec.jarm !== undefined) {
    const field = at('jarm', 'jwtHandler');
    const keys = readJWTHandler(spec.jarm.jwtHandler, field, fail);
    const jwks = spec.jarm.jwtHandler?.JWKs ?? {};
    const own =
      keys.publicKeys.length > 0 || Object.keys(jwks).length > 0 || spec.jarm.jwtHandler?.useJKU === true;
    // The jarm keys (and their JWKs by issuer), else the context's keys and the provider's JWKS.
    jarm = new JARMValidator(
      spec.jarm.responseMode,
      own
        ? keyResolver(
            keys.publicKeys,
            (iss) => (iss === undefined ? undefined : jwks[iss]),
            spec.jarm.jwtHandler?.useJKU ?? false,
            fetchThrough(undefined),
          )
        : undefined,
    );
    if (spec.jarm.responseMode === 'ResponseModeFragmentJWT')
      ctx.logger.warn(
        'jarm.responseMode ResponseModeFragmentJWT cannot work: browsers never send the fragment',
        {
          fix: 'use ResponseModeJWT, ResponseModeQueryJWT or ResponseModeFormPostJWT',
        },
      );
  }

  const secret = spec.tokenSecret !== '' ? Buffer.from(spec.tokenSecret, 'base64') : undefined;
  const tokens = new TokenStore(
    new TokenSeal(secret ?? generatedSecret(`oauth/authcode/tokens ${ctx.id}`, 32)),
    secret === undefined
      ? () =>
          ctx.logger.warn(
            'authorizationCodeHandler keeps tokens in cookie sessions sealed with a key generated at start: users log in again after a restart or on another gateway process',
            {
              fix: 'set authorizationCodeHandler.tokenSecret (openssl rand -base64 32), or keep sessions in a RedisClient',
            },
          )
      : undefined,
  );

  return new AuthorizationCodeFlow(base, {
    csrf: {
      disableState: spec.disableState,
      disableNonce: spec.disableNonce,
      disablePKCE: spec.disablePKCE,
      pkceMethod: spec.pkceMethod === 'Plain' ? 'plain' : 'S256',
    },
    pkceMethod: spec.pkceMethod === 'Plain' ? 'plain' : 'S256',
    loginPath: spec.loginPath,
    callbackURL: spec.callbackURL,
    callbackPath: callback.pathname,
    redirectPath: spec.redirectPath,
    targets: new RedirectTargets(spec.redirectPathPattern),
    redirectToLogin: spec.redirectToLogin,
    unauthorizeAny: spec.unauthorizeAny,
    restoreRequest: spec.restoreRequest,
    urlParams: pairs,
    maxAge,
    userInfoPath: spec.userInfoPath,
    enabledFAPI: spec.enabledFAPI,
    logoutPath: spec.logoutPath,
    postLogoutRedirectURL: spec.postLogoutRedirectURL,
    requestObjects,
    jarm,
    tokens,
  });
}
