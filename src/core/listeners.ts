/**
 * Runners that listen on sockets, as the reload supervisor (src/reload.ts) sees them: each reports what
 * identifies its listener, so that a reload can tell, without knowing the runner's kind or spec, whether the
 * new configuration's runner can take the running listener over, must restart it, or needs a new one.
 */
import type { Runner } from './roles.ts';

export interface ListenerIdentity {
  /** Where it listens, normalized (`localhost:80` and `127.0.0.1:80` are one): two listeners cannot share it. */
  readonly address: string;
  /**
   * Everything fixed once the socket listens (timeouts, limits, TLS, HTTP/2, ...), as a canonical string: when
   * it is equal, the new runner can serve the running listener's connections; when not, the listener restarts.
   */
  readonly settings: string;
}

/** A runner whose listener a runner of the same kind from a newer configuration can take over. */
export interface ListenerOwner extends Runner {
  /** undefined: it listens on nothing. */
  listenerIdentity(): ListenerIdentity | undefined;
  /**
   * Binds its address now (start-up binds every listener before any runner runs; `run` binds it if not yet).
   * Rejects with a ConfigError naming the address field when the address cannot be bound.
   */
  bind(): Promise<void>;
  /** Closes a listener `bind` opened when the runner will not run (another listener could not bind). */
  unbind(): Promise<void>;
  /** Resolves with the bound address once it listens, or once it took over a listener (`swap`). */
  readonly listening: Promise<string>;
  /** The address bound, once `listening` resolved. */
  readonly boundAddress: string;
  /**
   * From now on, requests on this runner's listener are served by `next` (same kind, same identity), which
   * never listens itself; requests already running finish where they started.
   */
  swap(next: ListenerOwner): void;
  /** Resolves when none of the requests its own handlers serve is running. */
  idle(): Promise<void>;
  /** Re-reads certificate files of a TLS listener; resolves true when new ones are in use. */
  reloadCertificates(): Promise<boolean>;
}

/** The runner as a listener owner with its identity, or undefined when it listens on nothing. */
export function listenerOf(runner: Runner): { owner: ListenerOwner; identity: ListenerIdentity } | undefined {
  if (typeof (runner as Partial<ListenerOwner>).listenerIdentity !== 'function') return undefined;
  const owner = runner as ListenerOwner;
  const identity = owner.listenerIdentity();
  return identity && { owner, identity };
}
