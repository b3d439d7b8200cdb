/**
 * app/v1 OAuthAuthenticationHandler (AILERON's fields and defaults, aileron-app.md §1.7): OAuth 2.0 / OpenID
 * Connect authentication inside an AuthenticationMiddleware, with one flow per handler (the oneof
 * authorizationCodeHandler / clientCredentialsHandler / resourceServerHandler / ropcHandler) and one context per
 * provider and client. `create` resolves each context (context.ts) and hands them to the flow's module:
 * resourceserver.ts, clientcredentials.ts, ropc.ts, authcode.ts. See docs/reference/oauthauthenticationhandler.md.
 */
import { RoundTripperRole } from '../../../core/roles.ts';
import { defineResource, failureOf } from '../../../kernel/resource.ts';
import { Enum, Obj, RefTo, type SchemaProblem, type Static, Type } from '../../../kernel/schema.ts';
import { authnErrorHandler, ErrorHandlerField, LoggerField } from '../spec.ts';
import { checkAuthorizationCode, createAuthorizationCodeHandler } from './authcode.ts';
import { createClientCredentialsHandler } from './clientcredentials.ts';
import { createOAuthContext, type OAuthContext, readContextKeys } from './context.ts';
import { type FlowBase, OAuthAuthenticationHandler } from './handler.ts';
import { createResourceServerHandler } from './resourceserver.ts';
import { createROPCHandler } from './ropc.ts';

export const SigningKeyAlgorithm = Enum(
  [
    'ALGORITHM_UNKNOWN',
    'NONE',
    'ES256',
    'ES384',
    'ES512',
    'EdDSA',
    'HS256',
    'HS384',
    'HS512',
    'RS256',
    'RS384',
    'RS512',
    'PS256',
    'PS384',
    'PS512',
  ],
  { default: 'ALGORITHM_UNKNOWN', description: 'JWS algorithm of the key' },
);
export type SigningKeyAlgorithm = Static<typeof SigningKeyAlgorithm>;

export const SigningKeySpec = Obj({
  keyID: Type.String({ default: '', description: 'kid; "" = derived from the key (private keys) or none' }),
  algorithm: SigningKeyAlgorithm,
  keyType: Enum(['KEY_TYPE_UNKNOWN', 'COMMON', 'PUBLIC', 'PRIVATE'], {
    default: 'KEY_TYPE_UNKNOWN',
    description: 'COMMON = HMAC secret bytes, PUBLIC / PRIVATE = PEM key',
  }),
  keyFilePath: Type.String({
    default: '',
    description: 'file holding the key (PEM, or the raw HMAC secret)',
  }),
  keyString: Type.String({
    default: '',
    description: 'base64 of the key file content, instead of keyFilePath',
  }),
  jwtHeader: Type.Record(Type.String(), Type.String(), {
    default: {},
    description: 'extra JOSE header parameters of JWTs signed with this key',
  }),
});
export type SigningKeySpec = Static<typeof SigningKeySpec>;

export const JWTHandlerSpec = Obj(
  {
    privateKeys: Type.Array(SigningKeySpec, {
      default: [],
      description: 'keys that sign (client assertions, JAR)',
    }),
    publicKeys: Type.Array(SigningKeySpec, { default: [], description: 'keys that verify tokens, by kid' }),
    JWKs: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'issuer -> JWKS URL for tokens of that issuer (cached, refetched on rotation)',
    }),
    useJKU: Type.Boolean({
      default: false,
      description:
        "trust a token's jku header when its issuer has no JWKs entry (dangerous: anyone can sign)",
    }),
  },
  { description: 'signing and verification keys' },
);
export type JWTHandlerSpec = Static<typeof JWTHandlerSpec>;

export const TokenValidation = Obj(
  {
    skipUnexpired: Type.Boolean({
      default: false,
      description: 'do not re-validate a stored token (session, cache) before its exp',
    }),
    iss: Type.String({ default: '', description: 'expected iss; "" = provider issuer; "-" = not checked' }),
    aud: Type.String({
      default: '',
      description: 'expected aud; "" = client.audience, else client.id; "-" = not checked',
    }),
    expOptional: Type.Boolean({ default: false, description: 'accept tokens without exp' }),
    iatDisabled: Type.Boolean({ default: false, description: 'do not refuse an iat in the future' }),
    leeway: Type.Integer({
      default: 5,
      minimum: 0,
      maximum: 3600,
      description: 'seconds of clock skew tolerated on exp, nbf and iat (applied, unlike AILERON)',
    }),
    validMethods: Type.Array(Type.String(), { default: [], description: 'accepted alg values; empty = any' }),
  },
  { description: 'checks of a token' },
);
export type TokenValidation = Static<typeof TokenValidation>;

export const ClientAuthMethod = Enum(
  ['FormAuth', 'BasicAuth', 'ClientSecretJWT', 'PrivateKeyJWT', 'TLSClientAuth', 'SelfSignedTLSClientAuth'],
  {
    default: 'FormAuth',
    description: 'how the client authenticates to the token and introspection endpoints',
  },
);
export type ClientAuthMethod = Static<typeof ClientAuthMethod>;

export const ClientRequester = Obj(
  {
    roundTripper: Type.Optional(
      RefTo('RoundTripper', {
        description: 'HTTPClient for the calls (mTLS client certificate); unset = the default client',
      }),
    ),
    clientAuthMethod: ClientAuthMethod,
    extraHeader: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'accepted, unused (as AILERON)',
    }),
    extraQuery: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'accepted, unused (as AILERON)',
    }),
  },
  { description: 'calls to a provider endpoint' },
);
export type ClientRequester = Static<typeof ClientRequester>;

const Endpoint = (what: string) => Type.String({ default: '', description: what });

export const ContextSpec = Obj({
  name: Type.String({
    default: 'default',
    description: 'context name, chosen by contextQueryKey/contextHeaderKey',
  }),
  provider: Obj(
    {
      issuer: Type.String({ default: '', description: 'expected issuer; "" = the discovered one' }),
      baseURL: Type.String({
        default: '',
        description: 'joined in front of every endpoint; "" = endpoints are absolute',
      }),
      endpoints: Obj(
        {
          authorization: Endpoint('authorization endpoint'),
          token: Endpoint('token endpoint'),
          userinfo: Endpoint('userinfo endpoint'),
          introspection: Endpoint('introspection endpoint (RFC 7662)'),
          revocation: Endpoint('revocation endpoint (accepted, unused)'),
          jwks: Endpoint('JWKS of the issuer (used when jwtHandler.JWKs has none for it)'),
          discovery: Endpoint('OpenID configuration; fills the endpoints not set'),
        },
        { default: {}, description: 'provider URLs (paths with baseURL)' },
      ),
      roundTripper: Type.Optional(
        RefTo('RoundTripper', { description: 'HTTPClient for discovery and JWKS' }),
      ),
    },
    { default: {}, description: 'the OAuth provider' },
  ),
  client: Obj(
    {
      id: Type.String({ default: '', description: 'client_id' }),
      secret: Type.String({ default: '', description: 'client_secret' }),
      audience: Type.String({ default: '', description: 'expected aud of tokens; "" = id' }),
      scopes: Type.Array(Type.String(), { default: [], description: 'scopes requested' }),
      jwtHandler: Type.Optional(JWTHandlerSpec),
    },
    { default: {}, description: 'this gateway as an OAuth client' },
  ),
  tokenRedeemer: Type.Optional(ClientRequester),
  tokenIntrospector: Type.Optional(ClientRequester),
  jwtHandler: Type.Optional(JWTHandlerSpec),
  enableIntrospection: Type.Boolean({
    default: false,
    description: 'validate access tokens by RFC 7662 introspection instead of locally',
  }),
  claimsKey: Type.String({ default: 'AuthnClaims', description: 'key of the token object in locals.claims' }),
  atProxyHeader: Type.String({
    default: '',
    description: 'upstream header set to the access token; "" = none',
  }),
  idtProxyHeader: Type.String({ default: '', description: 'upstream header set to the ID token; "" = none' }),
  atValidation: Type.Optional(TokenValidation),
  idtValidation: Type.Optional(TokenValidation),
  tokenCache: Obj(
    {
      maxEntries: Type.Integer({
        default: 10000,
        minimum: 0,
        maximum: 10_000_000,
        description: 'access tokens remembered as checked; 0 = every token is checked on every request',
      }),
      ttl: Type.Integer({
        default: 30,
        minimum: 0,
        maximum: 86_400,
        description: 'seconds an answer is reused (never past the token exp); 0 = not reused',
      }),
    },
    {
      default: {},
      description:
        'access token checks (local verification, introspection answers) reused for a while (not in AILERON)',
    },
  ),
});
export type ContextSpec = Static<typeof ContextSpec>;

export const AuthorizationCodeHandlerSpec = Obj(
  {
    disableState: Type.Boolean({ default: false, description: 'do not send nor check state' }),
    disableNonce: Type.Boolean({ default: false, description: 'do not send nor check nonce' }),
    disablePKCE: Type.Boolean({ default: false, description: 'do not use PKCE' }),
    pkceMethod: Enum(['S256', 'Plain'], { default: 'S256', description: 'PKCE code_challenge_method' }),
    loginPath: Type.String({ default: '', description: 'path that starts a login' }),
    callbackURL: Type.String({ default: '', description: 'redirect_uri; its path is the callback path' }),
    redirectPath: Type.String({ default: '', description: 'where to go after login' }),
    redirectKey: Type.String({ default: '', description: 'accepted, unused (as AILERON)' }),
    redirectPathPattern: Type.String({
      default: '^/.*$',
      description: 'regular expression the post-login target must match',
    }),
    redirectToLogin: Type.Boolean({
      default: false,
      description: 'unauthenticated requests: 302 to loginPath',
    }),
    unauthorizeAny: Type.Boolean({ default: false, description: 'unauthenticated requests: 401' }),
    restoreRequest: Type.Boolean({ default: false, description: 'replay the original request after login' }),
    urlParams: Type.Array(Type.String(), {
      default: [],
      description: 'extra k=v of the authorization request',
    }),
    userInfoPath: Type.String({ default: '', description: 'path answered with the userinfo; "" = none' }),
    enabledFAPI: Type.Boolean({ default: false, description: 'FAPI checks of the callback path' }),
    logoutPath: Type.String({
      default: '',
      description:
        'path that logs out: tokens and session removed, then the provider end_session_endpoint (not in AILERON)',
    }),
    postLogoutRedirectURL: Type.String({
      default: '',
      description:
        'where the browser goes after logout (post_logout_redirect_uri at the provider); "" = / (not in AILERON)',
    }),
    tokenSecret: Type.String({
      default: '',
      description:
        'base64 AES key (32 bytes) sealing tokens kept in cookie sessions; "" = generated at start (not in AILERON)',
    }),
    requestObject: Type.Optional(
      Obj(
        {
          requestURI: Type.String({
            default: '',
            description: 'request_uri served by the gateway; "" = by value',
          }),
          jwtHandler: Type.Optional(JWTHandlerSpec),
          exp: Type.Integer({ default: 0, minimum: 0, description: 'seconds the request object is valid' }),
          nbf: Type.Integer({ default: 0, minimum: 0, description: 'seconds before it becomes valid' }),
          disableCache: Type.Boolean({ default: false, description: 'add a hash fragment to request_uri' }),
        },
        { description: 'JWT-secured authorization request (JAR)' },
      ),
    ),
    jarm: Type.Optional(
      Obj(
        {
          responseMode: Enum(
            ['ResponseModeJWT', 'ResponseModeQueryJWT', 'ResponseModeFragmentJWT', 'ResponseModeFormPostJWT'],
            {
              default: 'ResponseModeJWT',
              description: 'response_mode asked for',
            },
          ),
          jwtHandler: Type.Optional(JWTHandlerSpec),
        },
        { description: 'JWT-secured authorization response (JARM)' },
      ),
    ),
  },
  { description: 'authorization code flow (browser login)' },
);
export type AuthorizationCodeHandlerSpec = Static<typeof AuthorizationCodeHandlerSpec>;

export const ResourceServerHandlerSpec = Obj(
  {
    headerKey: Type.String({ default: 'Authorization', description: 'header carrying the bearer token' }),
    enabledFAPI: Type.Boolean({
      default: false,
      description: 'certificate-bound tokens (cnf x5t#S256) and x-fapi-interaction-id',
    }),
    requiredScopes: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'scopes every token must have, else 403 insufficient_scope (not in AILERON)',
    }),
  },
  { description: 'resource server: bearer access tokens' },
);
export type ResourceServerHandlerSpec = Static<typeof ResourceServerHandlerSpec>;

const DefaultResourceServer = { headerKey: 'Authorization', enabledFAPI: false, requiredScopes: [] };

function isDefaultResourceServer(r: ResourceServerHandlerSpec | undefined): boolean {
  return (
    r !== undefined &&
    r.headerKey === DefaultResourceServer.headerKey &&
    r.enabledFAPI === false &&
    r.requiredScopes.length === 0
  );
}

export const ROPCHandlerSpec = Obj(
  {
    redeemTokenPath: Type.String({ default: '', description: 'path answered with the token response' }),
    usernameKey: Type.String({
      default: '',
      description: 'form field of the user name; "" = Basic credentials',
    }),
    passwordKey: Type.String({
      default: '',
      description: 'form field of the password; "" = Basic credentials',
    }),
  },
  { description: 'resource owner password credentials' },
);
export type ROPCHandlerSpec = Static<typeof ROPCHandlerSpec>;

export const OAuthAuthenticationHandlerSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  contexts: Type.Array(ContextSpec, { default: [], description: 'one per provider/client' }),
  contextQueryKey: Type.String({ default: '', description: 'query parameter naming the context; "" = none' }),
  contextHeaderKey: Type.String({ default: '', description: 'header naming the context; "" = none' }),
  authorizationCodeHandler: Type.Optional(AuthorizationCodeHandlerSpec),
  clientCredentialsHandler: Type.Optional(Obj({}, { description: 'client credentials grant' })),
  // The default flow (AILERON requires one to be named): dropped by mutate when another flow is set.
  resourceServerHandler: Type.Optional({
    ...ResourceServerHandlerSpec,
    default: DefaultResourceServer,
  } as typeof ResourceServerHandlerSpec),
  ropcHandler: Type.Optional(ROPCHandlerSpec),
});
export type OAuthAuthenticationHandlerSpec = Static<typeof OAuthAuthenticationHandlerSpec>;

const Flows = [
  'authorizationCodeHandler',
  'clientCredentialsHandler',
  'resourceServerHandler',
  'ropcHandler',
] as const;

/** The one flow of a spec (validate made sure there is exactly one). */
function flowOf(spec: OAuthAuthenticationHandlerSpec): (typeof Flows)[number] {
  return Flows.find((f) => spec[f] !== undefined) ?? 'resourceServerHandler';
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'OAuthAuthenticationHandler',
  summary:
    'OAuth 2.0 / OpenID Connect authentication for an AuthenticationMiddleware: resource server, client credentials, ROPC or authorization code, with FAPI client authentication.',
  spec: OAuthAuthenticationHandlerSpec,
  roles: ['AuthenticationHandler'],
  mutate(manifest) {
    const spec = manifest.spec;
    // resourceServerHandler is the default flow: the filled-in default gives way to a flow the config names.
    const others = Flows.filter((f) => f !== 'resourceServerHandler' && spec[f] !== undefined);
    if (others.length > 0 && isDefaultResourceServer(spec.resourceServerHandler))
      delete spec.resourceServerHandler;
    // AILERON's Mutate: validations default from the provider and the client.
    for (const c of manifest.spec.contexts) {
      const base = {
        skipUnexpired: false,
        iss: '',
        aud: '',
        expOptional: false,
        iatDisabled: false,
        leeway: 5,
        validMethods: [],
      };
      c.atValidation ??= { ...base };
      c.idtValidation ??= { ...base };
      for (const v of [c.atValidation, c.idtValidation]) {
        v.iss ||= c.provider.issuer;
        v.aud ||= c.client.audience || c.client.id;
      }
    }
  },
  validate(spec) {
    const problems: SchemaProblem[] = [];
    const set = Flows.filter((f) => spec[f] !== undefined);
    if (set.length !== 1)
      problems.push({
        path: set.length === 0 ? [] : [set[1]!],
        message:
          set.length === 0
            ? 'an OAuthAuthenticationHandler needs one flow'
            : `an OAuthAuthenticationHandler has one flow, found ${set.join(', ')}`,
        expected: Flows.join(', '),
        hint: 'e.g. resourceServerHandler: {}',
      });
    const names = new Set<string>();
    spec.contexts.forEach((c, i) => {
      if (names.has(c.name))
        problems.push({
          path: ['contexts', i, 'name'],
          message: `context "${c.name}" is declared twice`,
          hint: 'give each context its own name',
        });
      names.add(c.name);
    });
    return problems;
  },
  preflight(spec) {
    return failureOf((fail) => {
      for (const [i, c] of spec.contexts.entries()) readContextKeys(c, ['spec', 'contexts', i], fail);
      if (spec.authorizationCodeHandler) checkAuthorizationCode(spec.authorizationCodeHandler, fail);
    });
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const contexts = new Map<string, OAuthContext>();
    for (const [i, c] of spec.contexts.entries()) {
      const field = ['spec', 'contexts', i] as const;
      const rt = (
        r: { roundTripper?: import('../../../kernel/schema.ts').Reference | undefined } | undefined,
        name: string,
      ) =>
        r?.roundTripper
          ? ctx.get(r.roundTripper, RoundTripperRole, [...field, name, 'roundTripper'])
          : undefined;
      contexts.set(
        c.name,
        await createOAuthContext(c, {
          field: [...field],
          fail: ctx.fail,
          logger: ctx.logger,
          onClose: (fn) => ctx.onClose(fn),
          providerRoundTripper: await rt(c.provider, 'provider'),
          redeemerRoundTripper: await rt(c.tokenRedeemer, 'tokenRedeemer'),
          introspectorRoundTripper: await rt(c.tokenIntrospector, 'tokenIntrospector'),
        }),
      );
    }
    if (contexts.size === 0)
      ctx.logger.warn(
        `OAuthAuthenticationHandler ${manifest.metadata.name} has no contexts, so it authenticates nothing`,
        {
          fix: 'add contexts: [{name: default, provider: {...}, client: {...}}]',
        },
      );
    const base: FlowBase = {
      contexts,
      contextQueryKey: spec.contextQueryKey,
      contextHeaderKey: spec.contextHeaderKey,
      logger: ctx.logger,
      errorHandler: await authnErrorHandler(ctx, manifest),
    };
    const flow = flowOf(spec);
    switch (flow) {
      case 'resourceServerHandler':
        return new OAuthAuthenticationHandler(
          base,
          createResourceServerHandler(base, spec.resourceServerHandler!),
        );
      case 'clientCredentialsHandler':
        return new OAuthAuthenticationHandler(base, createClientCredentialsHandler(base));
      case 'ropcHandler':
        return new OAuthAuthenticationHandler(base, createROPCHandler(base, spec.ropcHandler!));
      case 'authorizationCodeHandler':
        return new OAuthAuthenticationHandler(
          base,
          await createAuthorizationCodeHandler(base, spec.authorizationCodeHandler!, ctx),
        );
    }
  },
});
