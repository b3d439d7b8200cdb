/**
 * JWT-secured authorization responses (JARM, FAPI): the provider answers the authorization request with one JWT,
 * `response`, that carries `code` and `state` (or `error`), signed by the provider. AILERON's modes
 * (aileron-app.md §1.7): `jwt` and `query.jwt` read it from the query, `form_post.jwt` from the POSTed form;
 * `fragment.jwt` never reaches a server (the browser keeps fragments), so a callback in that mode always fails.
 * The JWT must verify with the jarm keys, have the provider's issuer, the client as audience and an `exp`
 * (JARM §4.1), with the context's leeway. Failures are reasons (the caller answers 401).
 */
import * as jose from 'jose';
import type { OAuthContext } from './context.ts';
import type { KeyResolver } from './keys.ts';

export type ResponseMode =
  | 'ResponseModeJWT'
  | 'ResponseModeQueryJWT'
  | 'ResponseModeFragmentJWT'
  | 'ResponseModeFormPostJWT';

export const ResponseModes: Readonly<Record<ResponseMode, string>> = {
  ResponseModeJWT: 'jwt',
  ResponseModeQueryJWT: 'query.jwt',
  ResponseModeFragmentJWT: 'fragment.jwt',
  ResponseModeFormPostJWT: 'form_post.jwt',
};

/** A form_post body larger than this is not a JARM response. */
export const MaxFormBytes = 64 * 1024;

export interface JARMResult {
  readonly code: string;
  readonly state: string;
}

export class JARMValidator {
  readonly mode: ResponseMode;
  readonly #keys: KeyResolver | undefined;

  /** `keys`: jarm.jwtHandler's; undefined = the context's (its jwtHandler keys and the provider's JWKS). */
  constructor(mode: ResponseMode, keys: KeyResolver | undefined) {
    this.mode = mode;
    this.#keys = keys;
  }

  /** Whether the callback comes as a POSTed form (form_post.jwt). */
  get formPost(): boolean {
    return this.mode === 'ResponseModeFormPostJWT';
  }

  /**
   * The code and state of a `response` JWT, or the reason it is refused. `stateDisabled`: no state is expected
   * (AILERON then does not read it).
   */
  async verify(
    response: string | undefined,
    context: OAuthContext,
    expect: { audience: string; leeway: number; stateDisabled: boolean },
  ): Promise<JARMResult | string> {
    if (this.mode === 'ResponseModeFragmentJWT') return 'fragment.jwt responses never reach the gateway';
    if (response === undefined || response === '') return 'no JARM response';
    let claims: Record<string, unknown>;
    try {
      if (this.#keys === undefined)
        claims = await context.verifyJWT(
          response,
          {
            skipUnexpired: false,
            iss: '',
            aud: expect.audience,
            expOptional: false,
            iatDisabled: false,
            leeway: expect.leeway,
            validMethods: [],
          },
          'JARM response',
        );
      else
        ({ payload: claims } = await jose.jwtVerify(response, this.#keys, {
          // The provider's issuer: configured, else discovered (AILERON uses the discovered one here too).
          ...(context.issuer !== '' ? { issuer: context.issuer } : {}),
          audience: expect.audience,
          clockTolerance: expect.leeway,
          requiredClaims: ['exp'],
        }));
    } catch (err) {
      return `JARM response refused: ${(err as Error).message}`;
    }
    if (typeof claims.error === 'string') return `the provider answered ${claims.error}`;
    if (typeof claims.code !== 'string') return 'JARM response without code';
    if (expect.stateDisabled) return { code: claims.code, state: '' };
    if (typeof claims.state !== 'string') return 'JARM response without state';
    return { code: claims.code, state: claims.state };
  }
}
