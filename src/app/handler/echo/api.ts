/**
 * app/v1 EchoHandler: answers every request with a plain-text description of that request (see handler.ts).
 * A diagnostic upstream for trying routes, middleware and proxies; docs/reference/app/echohandler.md.
 */
import { defineResource } from '../../../kernel/resource.ts';
import { MethodList, methodList, Obj, type Static, Type } from '../../../kernel/schema.ts';
import { EchoHandler } from './handler.ts';

export const EchoHandlerSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [],
    description: 'path patterns, joined under the server handler entry pattern; empty = the entry pattern',
  }),
  methods: MethodList('methods served (others on these paths get 405); empty = all'),
});
export type EchoHandlerSpec = Static<typeof EchoHandlerSpec>;

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'EchoHandler',
  summary: 'Answers 200 with a plain-text description of the request (headers and body), for debugging.',
  spec: EchoHandlerSpec,
  roles: ['Handler'],
  create(_ctx, manifest) {
    return new EchoHandler({
      patterns: manifest.spec.patterns,
      methods: methodList(manifest.spec.methods),
    });
  },
});
