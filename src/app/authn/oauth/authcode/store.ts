/**
 * Where the flow keeps things in the session, under AILERON's keys: the tokens (`__authzCode`) and the FAPI
 * callback path (`_authzCodeCall`); the logins under way, with their post-login targets, are csrf.ts's (`_csrf`).
 * `_authzCodeRed` (AILERON's one post-login target) is read for a login AILERON started, never written.
 *
 * Tokens in a cookie session (the session's id is '' there: the data is the cookie) are sealed with the flow's
 * key (sealed.ts), as the cookie may be neither encrypted nor authenticated (AILERON's examples disable both).
 * In a server-side store (Redis, memory) they stay on the server as they are, readable by other gateway
 * instances that share the store.
 */
import type { Session } from '../../../session.ts';
import type { TokenSet } from '../context.ts';
import type { TokenSeal } from './sealed.ts';

export const TokensKey = '__authzCode';
export const RedirectKey = '_authzCodeRed';
export const CallbackKey = '_authzCodeCall';

export class TokenStore {
  readonly #seal: TokenSeal;
  /** Called once, the first time tokens are sealed (the key may be a generated one: a warning). */
  #onFirstSeal: (() => void) | undefined;

  constructor(seal: TokenSeal, onFirstSeal?: () => void) {
    this.#seal = seal;
    this.#onFirstSeal = onFirstSeal;
  }

  /** The tokens of the session, or undefined (none, or not readable: changed, sealed with another key). */
  get(session: Session): TokenSet | undefined {
    const raw = session.get(TokensKey);
    if (raw === undefined) return undefined;
    const value = session.id === '' ? this.#seal.open(raw) : raw;
    return isTokenSet(value) ? value : undefined;
  }

  set(session: Session, tokens: TokenSet): void {
    if (session.id === '') {
      this.#onFirstSeal?.();
      this.#onFirstSeal = undefined;
      session.set(TokensKey, this.#seal.seal(tokens));
    } else session.set(TokensKey, tokens);
  }

  delete(session: Session): void {
    session.delete(TokensKey);
  }
}

function isTokenSet(v: unknown): v is TokenSet {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  const optional = (x: unknown, type: string) => x === undefined || x === null || typeof x === type;
  return (
    typeof t.context === 'string' &&
    optional(t.at, 'string') &&
    optional(t.idt, 'string') &&
    optional(t.rt, 'string') &&
    optional(t.at_exp, 'number') &&
    optional(t.idt_exp, 'number') &&
    optional(t.at_claims, 'object') &&
    optional(t.idt_claims, 'object')
  );
}
