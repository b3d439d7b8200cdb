/**
 * The values that tie an authorization response to the browser that asked for it (aileron-app.md §1.7 A):
 * `state` (RFC 6749 §10.12, CSRF), `nonce` (OIDC Core §3.1.2.1, ID token replay) and the PKCE code verifier
 * (RFC 7636, code interception). Each is random, base64url without padding, with AILERON's lengths: state 84
 * bytes (112 characters), nonce 32 bytes (43), verifier 84 bytes (112, within PKCE's 43..128). They are kept in
 * the session under `_csrf` until the callback takes them out, once.
 *
 * AILERON keeps one login's `{s, n, v}` there, so a second login started meanwhile (another tab, a restored
 * window) makes the first one's callback fail. Here `_csrf` is a list of the last `MaxPendingLogins` logins, each
 * with its own post-login target (`r`); the callback takes out the one its state names. AILERON's single object
 * is still read.
 */
import { hash, randomBytes } from 'node:crypto';

export const CSRFSessionKey = '_csrf';

/** Logins under way kept per session (tabs); the oldest goes first. Bounds the session's size. */
export const MaxPendingLogins = 4;

export type PKCEMethod = 'S256' | 'plain';

/** What is kept in the session between the login redirect and the callback; an empty string = disabled. */
export interface CSRFStates {
  readonly s: string;
  readonly n: string;
  readonly v: string;
  /** Where the browser goes after this login ('' when not kept here: AILERON's `_authzCodeRed`). */
  readonly r?: string;
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

/** One login's states read back from a session value: undefined unless it has the right shape. */
function oneState(value: unknown): CSRFStates | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { s, n, v, r } = value as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : x === undefined ? '' : undefined);
  const [ss, nn, vv, rr] = [str(s), str(n), str(v), str(r)];
  if (ss === undefined || nn === undefined || vv === undefined || rr === undefined) return undefined;
  return { s: ss, n: nn, v: vv, r: rr };
}

/** The logins under way in a session value (a list, or AILERON's single object); malformed entries dropped. */
export function storedStates(value: unknown): CSRFStates[] {
  const list = Array.isArray(value) ? value : [value];
  return list
    .slice(-MaxPendingLogins)
    .map(oneState)
    .filter((x): x is CSRFStates => x !== undefined);
}

/** The list with a new login added (the oldest dropped past MaxPendingLogins). */
export function withState(list: readonly CSRFStates[], added: CSRFStates): CSRFStates[] {
  return [...list, added].slice(-MaxPendingLogins);
}

/**
 * The login a callback's state completes, and the logins left: the entry whose state matches; with state
 * disabled, the latest. undefined when none.
 */
export function takeState(
  list: readonly CSRFStates[],
  state: string,
  stateDisabled: boolean,
): { readonly taken: CSRFStates; readonly rest: CSRFStates[] } | undefined {
  const i = stateDisabled ? list.length - 1 : list.findIndex((x) => x.s !== '' && x.s === state);
  if (i < 0) return undefined;
  return { taken: list[i]!, rest: list.filter((_, j) => j !== i) };
}
