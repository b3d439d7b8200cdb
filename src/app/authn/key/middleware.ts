/**
 * The KeyAuthnMiddleware runtime (aileron-app.md §1.5): the API key in `keyHeaderName` (default X-Api-Key), hashed
 * or HMAC'd as configured, must be one of the stored keys. Missing, unknown or wrong: 403 E3070 through the error
 * handler. Authenticated: `locals.subject` (the key line's id/sub/name attribute, else `key-` and 16 hex digits of
 * the key's SHA-256, never the key), the claims `{method: "APIKey", auth_time, key, attrs}` under claimsKey, the
 * key header removed upstream unless keepCredentials, the subject in subjectHeader.
 *
 * Stored keys are indexed by the SHA-256 of their bytes: a lookup never compares a key character by character
 * (AILERON looks the text up in a map and compares strings), and a hit is confirmed in constant time.
 *
 * As an AuthenticationHandler (an addition): a request without the header is left to the next handler.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import { ErrAuthnForbidden } from '../errors.ts';
import type { KeyTransform } from '../keyhash.ts';
import { setAuthenticated } from '../locals.ts';
import { type Forwarding, forward } from '../subject.ts';

export interface StoredKey {
  /** The stored bytes (the key, its hash or its HMAC). */
  readonly secret: Buffer;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
}

export interface KeyAuthnOptions {
  readonly keys: readonly StoredKey[];
  readonly header: string;
  readonly transform: KeyTransform;
  readonly claimsKey: string;
  readonly forwarding: Forwarding;
  readonly errorHandler: ErrorHandler;
}

const Missing = new GatewayError(ErrAuthnForbidden, { details: { reason: 'no key' } });
const Unknown = new GatewayError(ErrAuthnForbidden, { details: { reason: 'unknown key' } });

export class KeyAuthnMiddleware implements Middleware, AuthenticationHandler {
  readonly #o: KeyAuthnOptions;
  readonly #header: string;
  readonly #index = new Map<string, StoredKey & { readonly subject: string | undefined }>();

  constructor(options: KeyAuthnOptions) {
    this.#o = options;
    this.#header = options.header.toLowerCase();
    for (const k of options.keys) this.#index.set(digest(k.secret), { ...k, subject: subjectOf(k.attrs) });
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const outcome = this.#verify(req);
      if (outcome instanceof GatewayError) return this.#o.errorHandler.serveHTTPError(req, res, outcome);
      return next(req, res);
    };
  }

  serveAuthn(req: Request, _res: Response): AuthnResult {
    const outcome = this.#verify(req);
    if (outcome === Missing) return 'continue';
    if (outcome instanceof GatewayError) throw outcome;
    return 'authenticated';
  }

  #verify(req: Request): GatewayError | undefined {
    const value = req.headers[this.#header];
    const key = typeof value === 'string' ? value : undefined;
    if (key === undefined || key === '') return Missing;
    const raw = Buffer.from(key, 'latin1');
    const given = this.#o.transform(raw);
    const hit = this.#index.get(digest(given));
    if (hit === undefined || hit.secret.length !== given.length || !timingSafeEqual(hit.secret, given))
      return Unknown;
    const id = hit.subject ?? `key-${hash('sha256', raw, 'hex').slice(0, 16)}`;
    setAuthenticated(req, { id, method: 'APIKey' }, this.#o.claimsKey, {
      method: 'APIKey',
      auth_time: Math.floor(Date.now() / 1000),
      key,
      attrs: hit.attrs ?? null,
    });
    forward(req, this.#o.forwarding, id);
    return undefined;
  }
}

function digest(bytes: Buffer): string {
  return hash('sha256', bytes, 'base64');
}

/** The subject a key's attributes name: `id`, `sub` or `name`, when a non-empty string. */
export function subjectOf(attrs: Readonly<Record<string, unknown>> | undefined): string | undefined {
  for (const k of ['id', 'sub', 'name']) {
    const v = attrs?.[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}
