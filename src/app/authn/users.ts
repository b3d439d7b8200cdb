/**
 * Users and their password checks, compiled at start-up, for BasicAuthnMiddleware: a presented user and password
 * verified with the stored value's check (constant-time; bcrypt, scrypt, PBKDF2 or Argon2 off the event loop but
 * for bcryptjs, which yields between rounds), with the cache of recent verifications in front of the costly ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { VerifiedCache } from './cache.ts';
import { CredentialError, type StoredCredential } from './credentials.ts';
import type { PasswordCheck, PasswordCompiler } from './passwords.ts';

export interface User {
  readonly name: string;
  readonly attrs: Readonly<Record<string, unknown>> | undefined;
  readonly check: PasswordCheck;
}

export class UserTable {
  readonly #users = new Map<string, User>();
  /** Checks a password for an unknown user, so that it costs what a known user's wrong password costs. */
  readonly #decoy: PasswordCheck;
  readonly #cache: VerifiedCache | undefined;
  /**
   * Verifications running, by cache key: concurrent requests with the same user and password (a client opening
   * many connections at once) share one costly check instead of running one each.
   */
  readonly #running = new Map<string, Promise<User | undefined>>();

  constructor(
    table: Map<string, StoredCredential>,
    compile: PasswordCompiler,
    cache: VerifiedCache | undefined,
    plain: boolean,
  ) {
    for (const [name, cred] of table) {
      let check: PasswordCheck;
      try {
        check = compile(cred.secret);
      } catch (err) {
        throw new CredentialError(
          ['passwordCrypt'],
          `${cred.source}: the stored password ${(err as Error).message}`,
          'check passwordCrypt and the encoding of the provider',
        );
      }
      this.#users.set(name, { name, attrs: cred.attrs, check });
    }
    const first = this.#users.values().next().value;
    this.#decoy = first?.check ?? compile(createHash('sha256').update(randomBytes(16)).digest());
    // The cache only pays for costly checks; a plain comparison is cheaper than its HMAC.
    this.#cache = plain ? undefined : cache;
  }

  get size(): number {
    return this.#users.size;
  }

  /** The user when `password` is theirs, else undefined. Synchronous for plain passwords and cache hits. */
  verify(name: string, password: Buffer): User | undefined | Promise<User | undefined> {
    const user = this.#users.get(name);
    if (user === undefined) {
      const decoy = this.#decoy(password);
      return decoy instanceof Promise
        ? decoy.then(
            () => undefined,
            () => undefined,
          )
        : undefined;
    }
    const cache = this.#cache;
    if (cache === undefined) {
      const ok = user.check(password);
      if (!(ok instanceof Promise)) return ok ? user : undefined;
      return ok.then(
        (yes) => (yes ? user : undefined),
        () => undefined,
      );
    }
    const key = cache.keyOf(name, password);
    if (cache.has(key)) return user;
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const verified = Promise.resolve(user.check(password)).then(
      (yes) => {
        if (!yes) return undefined;
        cache.add(key);
        return user;
      },
      () => undefined,
    );
    this.#running.set(key, verified);
    void verified.finally(() => this.#running.delete(key));
    return verified;
  }
}
