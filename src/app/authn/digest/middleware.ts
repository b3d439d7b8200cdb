/**
 * The DigestAuthnMiddleware runtime (RFC 7616; AILERON's fields, aileron-app.md §1.4): `Authorization: Digest`
 * with qop=auth, algorithm MD5, SHA-256 or SHA-512-256. Any failure gets 401 with a fresh challenge
 * `Digest realm="<realm>", qop="auth", algorithm=<ALG>, nonce="<nonce>", charset=UTF-8` (plus `stale=true` when
 * only the nonce had expired), through the error handler.
 *
 * Beyond AILERON, which checks none of them: the nonce must be one this process issued, at most nonceTTL old, and
 * its nonce-count must grow (no replay); `uri` must be the request target; `realm` must be ours; `algorithm`, if
 * given, the configured one; `qop` must be `auth`. The response digest is compared in constant time, and HA1 of
 * every user is computed at start-up (the password is not kept).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import { GatewayError } from '../../../kernel/errors.ts';
import type { AuthenticationHandler, AuthnResult } from '../../roles.ts';
import { ErrAuthnAuthentication } from '../errors.ts';
import { setAuthenticated } from '../locals.ts';
import { type Forwarding, forward, quote } from '../subject.ts';
import { parseDigest } from './header.ts';
import type { NonceBook } from './nonces.ts';

export const DigestAlgorithms = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' } as const;
export type DigestAlgorithm = keyof typeof DigestAlgorithms;

export interface DigestUser {
  readonly name: string;
  /** HA1 = H(user:realm:password), lowercase hex. */
  readonly ha1: string;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
}

export interface DigestAuthnOptions {
  readonly users: ReadonlyMap<string, DigestUser>;
  readonly realm: string;
  readonly algorithm: DigestAlgorithm;
  readonly nonces: NonceBook;
  readonly claimsKey: string;
  readonly forwarding: Forwarding;
  readonly errorHandler: ErrorHandler;
}

/** Why a request is refused, for the log line of the 401 (never a credential). */
type Refusal = 'no Digest credentials' | 'malformed' | 'stale nonce' | 'refused';

export class DigestAuthnMiddleware implements Middleware, AuthenticationHandler {
  readonly #o: DigestAuthnOptions;
  readonly #hash: string;
  readonly #challengeHead: string;
  /** A digest of the right length for unknown users, so that they cost what a known user costs. */
  readonly #decoyHA1: string;

  constructor(options: DigestAuthnOptions) {
    this.#o = options;
    this.#hash = DigestAlgorithms[options.algorithm];
    this.#challengeHead = `Digest realm="${quote(options.realm)}", qop="auth", algorithm=${options.algorithm}, nonce="`;
    this.#decoyHA1 = this.#h(randomBytes(16).toString('hex'));
  }

  /** A fresh challenge (a new nonce each time). */
  challenge(stale = false): string {
    return `${this.#challengeHead}${this.#o.nonces.issue()}", charset=UTF-8${stale ? ', stale=true' : ''}`;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const outcome = this.#verify(req);
      if (typeof outcome === 'object') {
        this.#authenticated(req, outcome);
        return next(req, res);
      }
      this.#o.errorHandler.serveHTTPError(req, res, this.#refusal(outcome));
    };
  }

  serveAuthn(req: Request, _res: Response): AuthnResult {
    const outcome = this.#verify(req);
    if (outcome === 'no Digest credentials') return 'continue';
    if (typeof outcome !== 'object') throw this.#refusal(outcome);
    this.#authenticated(req, outcome);
    return 'authenticated';
  }

  #refusal(reason: Refusal): GatewayError {
    return new GatewayError(ErrAuthnAuthentication, {
      details: { reason },
      headers: { 'www-authenticate': this.challenge(reason === 'stale nonce') },
    });
  }

  #verify(req: Request): DigestUser | Refusal {
    const header = req.headers.authorization;
    if (header === undefined || !/^digest /i.test(header)) return 'no Digest credentials';
    const p = parseDigest(header);
    if (p === undefined) return 'malformed';
    const username = p.get('username');
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    const nc = p.get('nc');
    const cnonce = p.get('cnonce');
    const alg = p.get('algorithm');
    if (
      username === undefined ||
      nonce === undefined ||
      uri === undefined ||
      response === undefined ||
      nc === undefined ||
      cnonce === undefined ||
      cnonce === '' ||
      p.get('qop') !== 'auth' ||
      p.get('realm') !== this.#o.realm ||
      p.get('userhash') === 'true' ||
      (alg !== undefined && alg.toUpperCase() !== this.#o.algorithm) ||
      !/^[0-9a-fA-F]{8}$/.test(nc) ||
      uri !== req.url
    )
      return 'malformed';
    const user = this.#o.users.get(username);
    const ha2 = this.#h(`${req.method}:${uri}`);
    const expected = this.#h(`${user?.ha1 ?? this.#decoyHA1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const given = Buffer.from(response.toLowerCase(), 'latin1');
    const match = given.length === expected.length && timingSafeEqual(given, Buffer.from(expected, 'latin1'));
    if (!match || user === undefined) return 'refused';
    // The nonce is counted only for requests that prove the password: anyone else cannot use up its counts.
    const verdict = this.#o.nonces.use(nonce, Number.parseInt(nc, 16));
    if (verdict === 'stale') return 'stale nonce';
    if (verdict !== 'ok') return 'refused';
    return user;
  }

  #h(text: string): string {
    return createHash(this.#hash).update(text).digest('hex');
  }

  #authenticated(req: Request, user: DigestUser): void {
    setAuthenticated(req, { id: user.name, method: 'Digest' }, this.#o.claimsKey, {
      method: 'Digest',
      auth_time: Math.floor(Date.now() / 1000),
      name: user.name,
      attrs: user.attrs ?? null,
    });
    forward(req, this.#o.forwarding, user.name);
  }
}

/** HA1 of a user: H(user:realm:password) in the algorithm's hash, lowercase hex. */
export function ha1(algorithm: DigestAlgorithm, user: string, realm: string, password: Buffer): string {
  return createHash(DigestAlgorithms[algorithm]).update(`${user}:${realm}:`).update(password).digest('hex');
}
