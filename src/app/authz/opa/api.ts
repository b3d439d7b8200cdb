/**
 * app/v1 OPAAuthzMiddleware (AILERON's fields, aileron-app.md §2.1): authorizes requests with Open Policy Agent
 * policies. Node has no Rego engine, so a policy is decided by one of:
 * - an OPA server (sidecar or shared) through its REST Data API: `opaServer` (new), for every `regos` entry
 *   without a wasm bundle; decisions optionally cached (`cacheTTL`, `cacheSize`);
 * - a policy compiled to WebAssembly (`opa build -t wasm`), evaluated in this process: `regos[].wasmBundle` (new).
 * An entry with neither (AILERON's Rego files alone) is refused at load time, saying which to use.
 * See middleware.ts and docs/reference/app/opaauthzmiddleware.md.
 */
import { isHeaderName, isHeaderValue } from '../../../core/common/headernames.ts';
import { formatPosition } from '../../../kernel/problems.ts';
import { defineResource, failureOf } from '../../../kernel/resource.ts';
import { Obj, Reference, type SchemaProblem, type Static, StringMap, Type } from '../../../kernel/schema.ts';
import { authzServices, ClaimsKeyField, ErrorHandlerField, LoggerField } from '../spec.ts';
import { DecisionCache } from './decisioncache.ts';
import { envData } from './input.ts';
import { OPAAuthzMiddleware, type Policy } from './middleware.ts';
import { dataPath, OPAServer, QueryParameterPattern } from './opaserver.ts';
import { openWasmPolicy, WasmPolicyError } from './wasm.ts';

const Flag = (description: string) => Type.Boolean({ default: false, description });
const Strings = (description: string) => Type.Array(Type.String(), { default: [], description });
const NotUsed = 'accepted for AILERON configs; not used (see docs/reference/app/opaauthzmiddleware.md)';

const RegoSpec = Obj(
  {
    queryParameter: Type.String({
      minLength: 1,
      description:
        'the rule whose value decides, e.g. data.example.authz.allow (true allows); also the OPA server path and the wasm entrypoint',
    }),
    policyFiles: Strings(
      'Rego files (AILERON evaluates them in-process): not read here; load them into the OPA server, or compile them with wasmBundle',
    ),
    bundlePaths: Strings('Rego bundles: not read here; serve them with the OPA server, or use wasmBundle'),
    wasmBundle: Type.String({
      default: '',
      description:
        'bundle.tar.gz from opa build -t wasm (or a policy.wasm), evaluated in-process; "" = ask opaServer',
    }),
    bundleVerification: Type.Optional(
      Obj(
        {
          verificationKeys: Type.Array(
            Obj({
              keyID: Type.String({ default: '', description: 'key id' }),
              scope: Type.String({ default: '', description: 'scope' }),
              algorithm: Type.String({ default: 'RS256', description: 'signing algorithm' }),
              keyFile: Type.String({ default: '', description: 'key file' }),
            }),
            { default: [], description: 'bundle signature keys' },
          ),
          keyID: Type.String({ default: '', description: 'key id' }),
          scope: Type.String({ default: '', description: 'scope' }),
          excludes: Strings('files excluded from verification'),
        },
        { description: `bundle signature verification; ${NotUsed}` },
      ),
    ),
    skipBundleVerification: Flag(NotUsed),
    enablePrintStatements: Flag(NotUsed),
    shallowInlining: Flag(NotUsed),
    strict: Flag(NotUsed),
    strictBuiltinErrors: Flag(NotUsed),
    // A plain reference, not resolved (so not checked for its role): nothing here downloads bundles.
    roundTripper: Type.Optional(
      Type.Unsafe<Static<typeof Reference>>({ ...Reference, description: `bundle downloads; ${NotUsed}` }),
    ),
    header: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: `bundle downloads; ${NotUsed}`,
    }),
    fileStore: Type.Optional(
      Obj(
        {
          path: Type.Record(Type.String(), Type.String(), {
            default: {},
            description: 'storage path -> file',
          }),
          directory: Type.String({ default: '', description: 'directory of data files' }),
        },
        { description: `policy data from files; ${NotUsed}` },
      ),
    ),
    httpStore: Type.Optional(
      Obj(
        {
          endpoint: Type.Record(Type.String(), Type.String(), {
            default: {},
            description: 'storage path -> URL',
          }),
          directory: Type.String({ default: '', description: 'download directory' }),
          partitions: Strings('storage partitions'),
        },
        { description: `policy data from URLs; ${NotUsed}` },
      ),
    ),
  },
  { description: 'a policy' },
);

const OPAServerSpec = Obj(
  {
    url: Type.String({
      minLength: 1,
      description:
        'http(s)://host:port of the OPA server (a path prefix is kept), e.g. http://127.0.0.1:8181',
    }),
    timeout: Type.Integer({
      default: 1000,
      minimum: 1,
      maximum: 60_000,
      description: 'milliseconds a decision may take; then the request gets 503 (fail closed)',
    }),
    header: Type.Unsafe<Record<string, string>>({
      ...StringMap,
      default: {},
      description: 'headers sent with each query, e.g. Authorization: "Bearer <token>"',
    }),
    cacheTTL: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 86_400_000,
      description: 'milliseconds a decision is reused for the same input; 0 = no cache (ask every time)',
    }),
    cacheSize: Type.Integer({
      default: 10_000,
      minimum: 1,
      maximum: 1_000_000,
      description: 'most decisions kept in the cache (least recently used go first)',
    }),
  },
  { description: 'an OPA server asked through its REST Data API, for every regos entry without wasmBundle' },
);

export const OPAAuthzMiddlewareSpec = Obj({
  logger: LoggerField,
  errorHandler: ErrorHandlerField,
  claimsKey: ClaimsKeyField,
  envData: Type.Optional(
    Obj(
      {
        vars: Strings('environment variables given to policies as input.env.vars.NAME'),
        pid: Flag('input.env.pid = the process id'),
        ppid: Flag('input.env.ppid = the parent process id'),
        gid: Flag('input.env.gid = the group id'),
        uid: Flag('input.env.uid = the user id'),
      },
      { description: 'host data given to policies as input.env, computed at start-up' },
    ),
  ),
  regos: Type.Array(RegoSpec, {
    default: [],
    description: 'policies asked in order; the first whose result is true allows; none = every request 403',
  }),
  enableTrace: Flag('log each decision (policy, method, path) at debug'),
  opaServer: Type.Optional(OPAServerSpec),
});
export type OPAAuthzMiddlewareSpec = Static<typeof OPAAuthzMiddlewareSpec>;
type RegoSpec = Static<typeof RegoSpec>;

/** Why an entry with Rego only cannot run here, and the two ways out. Also in the reference page. */
export const RegoOnlyMessage =
  'Rego policies are not evaluated in-process by this gateway (Node.js has no Rego engine)';
const regoOnlyHint = (entrypoint: string) =>
  `either run OPA with these policies (sidecar or server) and set spec.opaServer.url (e.g. http://127.0.0.1:8181), ` +
  `or compile them to WebAssembly (opa build -t wasm -e ${entrypoint} policy.rego) and set wasmBundle: ./bundle.tar.gz ` +
  '(docs/reference/app/opaauthzmiddleware.md)';

function specProblems(spec: OPAAuthzMiddlewareSpec): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const query = new RegExp(QueryParameterPattern);
  spec.regos.forEach((rego, i) => {
    const at = ['regos', i];
    if (!query.test(rego.queryParameter))
      problems.push({
        path: [...at, 'queryParameter'],
        message: 'not a rule path this gateway can query',
        expected: 'data.<package>.<rule>, names of letters, digits and _ (e.g. data.example.authz.allow)',
        found: JSON.stringify(rego.queryParameter),
      });
    if (rego.wasmBundle === '' && spec.opaServer === undefined)
      problems.push({
        path: rego.policyFiles.length > 0 ? [...at, 'policyFiles'] : at,
        message: RegoOnlyMessage,
        hint: regoOnlyHint(dataPath(rego.queryParameter) || 'example/authz/allow'),
      });
    if (rego.fileStore !== undefined && rego.httpStore !== undefined)
      problems.push({
        path: [...at, 'httpStore'],
        message: 'fileStore and httpStore are exclusive (one of them)',
      });
  });
  if (spec.opaServer !== undefined) {
    const server = spec.opaServer;
    let url: URL | undefined;
    try {
      url = new URL(server.url);
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.search ||
      url.hash
    )
      problems.push({
        path: ['opaServer', 'url'],
        message: 'not an OPA server URL',
        expected: 'http(s)://host:port, optionally with a path prefix, without query or fragment',
        found: JSON.stringify(server.url),
      });
    for (const [name, value] of Object.entries(server.header)) {
      if (!isHeaderName(name) || !isHeaderValue(value))
        problems.push({ path: ['opaServer', 'header', name], message: 'not a valid header name and value' });
    }
  }
  return problems;
}

/** The wasm policy of an entry, loaded and checked; `fail` at its field otherwise (preflight and create). */
function wasmPolicyOf(
  rego: RegoSpec,
  i: number,
  fail: (field: (string | number)[], m: string, e?: { hint?: string }) => never,
) {
  try {
    return openWasmPolicy(rego.wasmBundle, [dataPath(rego.queryParameter)]);
  } catch (err) {
    if (!(err instanceof WasmPolicyError)) throw err;
    return fail(
      ['spec', 'regos', i, 'wasmBundle'],
      err.message,
      err.hint === undefined ? {} : { hint: err.hint },
    );
  }
}

/** Fields of an entry that this gateway accepts but does not use with the evaluator it got. */
function unusedFields(rego: RegoSpec): string[] {
  const unused: string[] = [];
  if (rego.policyFiles.length > 0) unused.push('policyFiles');
  if (rego.bundlePaths.length > 0) unused.push('bundlePaths');
  if (rego.bundleVerification !== undefined) unused.push('bundleVerification');
  if (rego.fileStore !== undefined) unused.push('fileStore');
  if (rego.httpStore !== undefined) unused.push('httpStore');
  if (rego.roundTripper !== undefined) unused.push('roundTripper');
  if (Object.keys(rego.header).length > 0) unused.push('header');
  for (const flag of [
    'skipBundleVerification',
    'enablePrintStatements',
    'shallowInlining',
    'strict',
    'strictBuiltinErrors',
  ] as const)
    if (rego[flag]) unused.push(flag);
  return unused;
}

export const resource = defineResource({
  apiVersion: 'app/v1',
  kind: 'OPAAuthzMiddleware',
  summary:
    'Authorizes requests with Open Policy Agent: an OPA server through its REST Data API (decisions cached, 503 when it is down) or policies compiled to WebAssembly, evaluated in-process; 403 when no policy allows.',
  spec: OPAAuthzMiddlewareSpec,
  roles: ['Middleware'],
  validate(spec) {
    return specProblems(spec);
  },
  preflight(spec) {
    return spec.regos.flatMap((rego, i) =>
      rego.wasmBundle === '' ? [] : failureOf((fail) => void wasmPolicyOf(rego, i, fail)),
    );
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const { logger, errorHandler } = await authzServices(ctx, manifest);
    const where = (field: (string | number)[]) => {
      const at = ctx.position(field);
      return at ? `${formatPosition(at)}: ` : '';
    };
    const server =
      spec.opaServer === undefined
        ? undefined
        : new OPAServer({
            url: spec.opaServer.url,
            timeoutMs: spec.opaServer.timeout,
            headers: spec.opaServer.header,
          });
    if (server !== undefined) ctx.onClose(() => server.close());
    const cacheOf = () =>
      spec.opaServer === undefined || spec.opaServer.cacheTTL === 0
        ? undefined
        : new DecisionCache({ ttlMs: spec.opaServer.cacheTTL, maxEntries: spec.opaServer.cacheSize });
    const policies: Policy[] = spec.regos.map((rego, i): Policy => {
      const path = dataPath(rego.queryParameter);
      const byServer = rego.wasmBundle === '';
      const unused = unusedFields(rego);
      if (unused.length > 0)
        logger.warn(
          `${where(['spec', 'regos', i])}OPAAuthzMiddleware regos[${i}] (${rego.queryParameter}): ${unused.join(', ')} not used: ${byServer ? `the OPA server ${server!.origin} decides with the policies it has loaded` : `the compiled policy ${rego.wasmBundle} decides`}`,
          {
            fix: byServer
              ? 'load these policies and data into the OPA server'
              : 'compile the data into the bundle (opa build -t wasm)',
          },
        );
      if (!byServer)
        return { kind: 'wasm', query: rego.queryParameter, path, policy: wasmPolicyOf(rego, i, ctx.fail) };
      return { kind: 'server', query: rego.queryParameter, path, server: server!, cache: cacheOf() };
    });
    if (policies.length === 0)
      logger.warn(`${where(['spec'])}OPAAuthzMiddleware has no regos, so it refuses every request (403)`, {
        fix: 'add regos: [{queryParameter: data.example.authz.allow}] and opaServer or wasmBundle',
      });
    return new OPAAuthzMiddleware({
      policies,
      claimsKey: spec.claimsKey,
      env: envData(
        spec.envData ?? { vars: [], pid: false, ppid: false, gid: false, uid: false },
        process.env,
      ),
      trace: spec.enableTrace,
      logger,
      errorHandler,
    });
  },
});
