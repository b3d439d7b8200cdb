// @ts-check
/**
 * An example plugin: two kinds of its own, registered with the API the gateway's built-in kinds are written
 * with. Loaded by the `core/v1 Plugin` resource of config.yaml; docs/extending.md walks through it.
 *
 * - example/v1 HeaderStampMiddleware adds a response header to every response that passes through it,
 *   whoever writes the response (a handler, the reverse proxy, or the error handler).
 * - example/v1 GreetingHandler answers `<greeting>, <name>!` in plain text.
 *
 * Plain JavaScript, checked by TypeScript through the JSDoc types below (`// @ts-check`); the same in TypeScript is
 * in docs/extending.md. Only types come from the gateway (JSDoc imports, not run); everything else is `api`.
 *
 * @typedef {import('../../src/core/plugin/pluginapi.ts').PluginAPI} PluginAPI
 * @typedef {import('../../src/core/plugin/pluginapi.ts').Middleware} Middleware
 * @typedef {import('../../src/core/plugin/pluginapi.ts').Handler} Handler
 */

/** A header name as RFC 9110 allows it (a token). */
const HeaderName = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** @param {PluginAPI} api */
export default function plugin(api) {
  const { Obj, Type } = api;

  const HeaderStampSpec = Obj({
    header: Type.String({
      pattern: HeaderName,
      default: 'x-stamp',
      description: 'the response header to set (a header name)',
    }),
    value: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'its value; required',
    }),
  });

  api.register(
    api.defineResource({
      apiVersion: 'example/v1',
      kind: 'HeaderStampMiddleware',
      summary: 'Sets a response header on every response that passes through it.',
      spec: HeaderStampSpec,
      roles: ['Middleware'],
      // Everything is decided here, once; per request the middleware only registers a hook.
      /** @returns {Middleware} */
      create(_ctx, manifest) {
        const { header, value } = manifest.spec;
        return {
          middleware: (next) => (req, res) => {
            // On the response head, whoever writes it: the proxy's and the error handler's responses too.
            req.ctx.onResponseHead((head) => {
              head.setHeader(header, value);
            });
            return next(req, res);
          },
        };
      },
    }),
  );

  const BadName = api.defineError('E9001', 'ExampleGreetingBadName', 'the name is too long', 400);

  const GreetingSpec = Obj({
    greeting: Type.String({ default: 'Hello', maxLength: 64, description: 'the first word of the answer' }),
    patterns: Type.Array(Type.String(), {
      default: [],
      description:
        'path patterns served, joined under the server handler entry pattern; empty = the entry pattern',
    }),
    methods: api.MethodList('methods served (others on these paths get 405); empty = all'),
  });

  api.register(
    api.defineResource({
      apiVersion: 'example/v1',
      kind: 'GreetingHandler',
      summary: 'Answers "<greeting>, <name>!" in plain text (name from the query, else "world").',
      spec: GreetingSpec,
      roles: ['Handler'],
      /** @returns {Handler} */
      create(_ctx, manifest) {
        const { greeting, patterns } = manifest.spec;
        return {
          patterns,
          methods: api.methodList(manifest.spec.methods),
          handle(req, res) {
            const name = new URL(req.url ?? '/', 'http://localhost').searchParams.get('name') ?? 'world';
            // Thrown, a GatewayError reaches the server's error handler: the client sees 400, never a stack.
            if (name.length > 64) throw new api.GatewayError(BadName);
            const body = `${greeting}, ${name}!\n`;
            res.writeHead(200, {
              'content-type': 'text/plain; charset=utf-8',
              'content-length': Buffer.byteLength(body),
            });
            res.end(body);
          },
        };
      },
    }),
  );
}
