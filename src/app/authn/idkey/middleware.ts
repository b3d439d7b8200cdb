/**
 * The IDKeyAuthnMiddleware runtime (aileron-app.md §1.6): an id in `idHeaderName` (default X-Api-Id) and its key
 * in `keyHeaderName` (default X-Api-Key); the key, hashed or HMAC'd as configured, must be the id's stored key
 * (decrypted at start-up when cryptSecret is set). Missing id or key, unknown id, wrong key: 403 E3070 through the
 * error handler. Authenticated: `locals.subject` = the id, the claims `{method: "APIKey", auth_time, key, attrs}`,
 * both headers removed upstream unless keepCredentials, the id in subjectHeader. Keys are compared in constant
 * time (SHA-256 digests of equal length), and an unknown id costs what a known one does.
 *
 * As an AuthenticationHandler (an addition): a request without the id header is left to the next handler (so an
 * IDKeyAuthn before a KeyAuthn on the same key header takes the requests with an id, the KeyAuthn the others).
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import { ErrAuthnForbidden } from '../errors.ts';
import type { KeyTransform } from '../keyhash.ts';
import { setAuthenticated } from '../locals.ts';
import { type Forwarding, forward } from '../subject.ts';

export interface StoredIDKey {
  readonly id: string;
  /** The stored bytes, decrypted (the key, its hash or its HMAC). */
  readonly secret: Buffer;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
}

export interface IDKeyAuthnOptions {
  readonly keys: readonly StoredIDKey[];
  readonly idHeader: string;
  readonly keyHeader: string;
  readonly transform: KeyTransform;
  readonly claimsKey: string;
  readonly forwarding: Forwarding;
  readonly errorHandler: ErrorHandler;
}

const NoCredentials = new GatewayError(ErrAuthnForbidden, { details: { reason: 'no id and no key' } });
const NoID = new GatewayError(ErrAuthnForbidden, { details: { reason: 'no id' } });
const NoKey = new GatewayError(ErrAuthnForbidden, { details: { reason: 'no key' } });
const Refused = new GatewayError(ErrAuthnForbidden, { details: { reason: 'unknown id or wrong key' } });

interface Entry {
  readonly id: string;
  readonly digest: Buffer;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
}

export class IDKeyAuthnMiddleware implements Middleware, AuthenticationHandler {
  readonly #o: IDKeyAuthnOptions;
  readonly #idHeader: string;
  readonly #keyHeader: string;
  readonly #entries = new Map<string, Entry>();
  readonly #decoy: Buffer = sha256(randomBytes(32));

  constructor(options: IDKeyAuthnOptions) {
    this.#o = options;
    this.#idHeader = options.idHeader.toLowerCase();
    this.#keyHeader = options.keyHeader.toLowerCase();
    for (const k of options.keys)
      this.#entries.set(k.id, { id: k.id, digest: sha256(k.secret), attrs: k.attrs });
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const outcome = this.#verify(req);
      if (outcome !== undefined) return this.#o.errorHandler.serveHTTPError(req, res, outcome);
      return next(req, res);
    };
  }

  serveAuthn(req: Request, _res: Response): AuthnResult {
    const outcome = this.#verify(req);
    // Without an id these are not IDKey credentials: a KeyAuthn handler after this one may take the key alone.
    if (outcome === NoCredentials || outcome === NoID) return 'continue';
    if (outcome !== undefined) throw outcome;
    return 'authenticated';
  }

  #verify(req: Request): GatewayError | undefined {
    const id = header(req, this.#idHeader);
    const key = header(req, this.#keyHeader);
    if (id === '' && key === '') return NoCredentials;
    if (id === '') return NoID;
    if (key === '') return NoKey;
    const entry = this.#entries.get(id);
    const given = sha256(this.#o.transform(Buffer.from(key, 'latin1')));
    const match = timingSafeEqual(given, entry?.digest ?? this.#decoy);
    if (!match || entry === undefined) return Refused;
    setAuthenticated(req, { id: entry.id, method: 'APIKey' }, this.#o.claimsKey, {
      method: 'APIKey',
      auth_time: Math.floor(Date.now() / 1000),
      key,
      attrs: entry.attrs ?? null,
    });
    forward(req, this.#o.forwarding, entry.id);
    return undefined;
  }
}

function header(req: Request, name: string): string {
  const v = req.headers[name];
  return typeof v === 'string' ? v : '';
}

function sha256(bytes: Buffer): Buffer {
  return hash('sha256', bytes, 'buffer');
}
