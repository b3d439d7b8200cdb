/**
 * The SessionMiddleware runtime: loads the request's session from its store, puts it in the request context
 * (`req.ctx.locals.session`) for the middleware and handlers after it (CSRF, authentication), and saves it once,
 * in the response head, whoever writes the head (a handler, the proxy, the ErrorHandler). The save hook is
 * registered only when there is something to save (a change, a touch, a cookie to clear): a session that is only
 * read costs no hook and sends no Set-Cookie. A missing, expired or tampered cookie starts a fresh session (never
 * an error); only a server-side store that cannot be read answers 503.
 */
import type { ErrorHandler, HandlerFn, Middleware, Request, Response } from '../../../core/roles.ts';
import type { SessionState } from './state.ts';
import type { SessionStore } from './store.ts';
import '../../session.ts';

export class SessionMiddleware implements Middleware {
  readonly #store: SessionStore;
  readonly #errorHandler: ErrorHandler;

  constructor(store: SessionStore, errorHandler: ErrorHandler) {
    this.#store = store;
    this.#errorHandler = errorHandler;
  }

  middleware(next: HandlerFn): HandlerFn {
    return (req, res) => {
      const loaded = this.#store.load(req);
      if (loaded instanceof Promise) {
        return loaded.then(
          (state) => this.#serve(state, req, res, next),
          // The store failed (503): answered by this kind's error handler (metadata.errorHandler), as AILERON does.
          (err: unknown) => this.#errorHandler.serveHTTPError(req, res, err),
        );
      }
      return this.#serve(loaded, req, res, next);
    };
  }

  #serve(state: SessionState, req: Request, res: Response, next: HandlerFn): ReturnType<HandlerFn> {
    req.ctx.locals.session = state;
    const store = this.#store;
    state.attach(
      () => req.ctx.onResponseHead((head) => store.save(req, head, state)),
      store.saveDue(state, Date.now()),
    );
    return next(req, res);
  }
}
