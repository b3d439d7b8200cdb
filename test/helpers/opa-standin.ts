/**
 * A stand-in for an OPA server: speaks OPA's REST Data API (`POST /v1/data/<path>` with `{"input": …}`, answered
 * `200 {"result": …}`, or `200 {}` when the rule is undefined) on 127.0.0.1:0, with the policies written as
 * JavaScript functions of the input. No OPA binary can be installed where these tests run (no Go toolchain, no
 * network downloads), so the tests of the REST path run against this; it answers as OPA documents
 * (https://www.openpolicyagent.org/docs/rest-api#get-a-document-with-input), errors included
 * (`{"code": …, "message": …}`).
 *
 *   const opa = await startOPAStandin({ 'example/authz/allow': (input) => input.method === 'GET' });
 *   ... opa.url, opa.queries (every query received), opa.mode = 'error' | 'slow' | 'ok'; await opa.close();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A rule: its value for the input; undefined = the rule is undefined (no `result` in the answer); throws = 500. */
export type Rule = (input: Record<string, unknown>) => unknown;

export interface OPAQuery {
  readonly path: string;
  readonly input: Record<string, unknown>;
  readonly headers: http.IncomingHttpHeaders;
}

export interface OPAStandin {
  readonly url: string;
  readonly queries: OPAQuery[];
  /** `ok`: decide; `error`: 500 with OPA's error body; `slow`: never answer (until closed); `garbage`: 200 text. */
  mode: 'ok' | 'error' | 'slow' | 'garbage';
  close(): Promise<void>;
}

export async function startOPAStandin(rules: Record<string, Rule>, port = 0): Promise<OPAStandin> {
  const queries: OPAQuery[] = [];
  const state: OPAStandin = {
    url: '',
    queries,
    mode: 'ok',
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/v1\/data\/(.*)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":"resource_not_found"}');
        return;
      }
      let body: { input?: Record<string, unknown> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"code":"invalid_parameter","message":"body must be JSON"}');
        return;
      }
      const path = m[1]!;
      queries.push({ path, input: body.input ?? {}, headers: req.headers });
      if (state.mode === 'slow') return; // answered never: the gateway's timeout decides
      if (state.mode === 'error') {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(
            '{"code":"internal_error","message":"eval_conflict_error: functions must not produce multiple outputs"}',
          );
        return;
      }
      if (state.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('not json');
        return;
      }
      const rule = rules[path];
      let result: unknown;
      try {
        result = rule === undefined ? undefined : rule(body.input ?? {});
      } catch (err) {
        // What OPA answers for a policy that fails at evaluation (a conflict, a builtin error).
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'internal_error', message: String(err) }));
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(result === undefined ? {} : { result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  Object.assign(state, {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return state;
}

/** AILERON's example policies (examples/authz-opa/*.rego, which are not in the corpus), as stand-in rules. */
export const AileronExamplePolicies = {
  /** policy.rego: POST with `Foo: bar`. */
  header: (input: Record<string, unknown>): boolean => {
    const header = input.header as Record<string, string[]> | undefined;
    return header?.Foo?.[0] === 'bar' && input.method === 'POST';
  },
  /** policy-basicauth.rego: scope readonly may GET, update may POST. */
  basicauth: (input: Record<string, unknown>): boolean => {
    const scope = ((input.auth as { attrs?: { scope?: unknown } } | null)?.attrs?.scope ?? []) as unknown[];
    return (
      (scope.includes('readonly') && input.method === 'GET') ||
      (scope.includes('update') && input.method === 'POST')
    );
  },
};
