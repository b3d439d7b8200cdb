/**
 * The values that tie an authorization response to the browser that asked for it (aileron-app.md §1.7 A):
 * `state` (RFC 6749 §10.12, CSRF), `nonce` (OIDC Core §3.1.2.1, ID token replay) and the PKCE code verifier
 * (RFC 7636, code interception). Each is random, base64url without padding, with AILERON's lengths: state 84
 * bytes (112 characters), nonce 32 bytes (43), verifier 84 bytes (112, within PKCE's 43..128). They are kept in
 * the session under `_csrf` as `{s, n, v}` (AILERON's shape) until the callback takes them out, once.
 */
import { hash, randomBytes } from 'node:crypto';

export const CSRFSessionKey = '_csrf';

export type PKCEMethod = 'S256' | 'plain';

/** What is kept in the session between the login redirect and the callback; an empty string = disabled. */
export interface CSRFStates {
  readonly s: string;
  readonly n: string;
  readonly v: string;
}

export interface CSRFOptions {
  readonly disableState: boolean;
  readonly disableNonce: boolean;
  readonly disablePKCE: boolean;
  readonly pkceMethod: PKCEMethod;
}

function random(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** New values for one login. */
export function newStates(o: CSRFOptions): CSRFStates {
  return {
    s: o.disableState ? '' : random(84),
    n: o.disableNonce ? '' : random(32),
    v: o.disablePKCE ? '' : random(84),
  };
}

/** The PKCE challenge of a verifier: base64url(SHA-256(verifier)) for S256, the verifier itself for plain. */
export function codeChallenge(verifier: string, method: PKCEMethod): string {
  return method === 'plain' ? verifier : hash('sha256', verifier, 'base64url');
}

/** The authorization request's parameters for these states (none for a disabled one). */
export function stateParams(states: CSRFStates, method: PKCEMethod): [string, string][] {
  const params: [string, string][] = [];
  if (states.v !== '') {
    params.push(['code_challenge', codeChallenge(states.v, method)]);
    params.push(['code_challenge_method', method]);
  }
  if (states.n !== '') params.push(['nonce', states.n]);
  if (states.s !== '') params.push(['state', states.s]);
  return params;
}

/** The states read back from a session: the stored object when it has the right shape, else undefined. */
export function storedStates(value: unknown): CSRFStates | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { s, n, v } = value as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : x === undefined ? '' : undefined);
  const [ss, nn, vv] = [str(s), str(n), str(v)];
  if (ss === undefined || nn === undefined || vv === undefined) return undefined;
  return { s: ss, n: nn, v: vv };
}
