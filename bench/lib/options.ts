/** Command-line flags of `npm run bench` (node bench/run.ts). */
import { parseArgs } from 'node:util';

/**
 * The default run. `gateway-mw5` is the gateway with five no-op middleware that use the request context, a
 * response head hook and completion (bench/gateway-mw.ts, bench/configs/gateway-mw5.yaml): what the middleware
 * platform costs, judged against `gateway` in the same run. `gateway-accesslog` (an HTTPLogger access log to a
 * file) and `gateway-prom` (a PrometheusMeter on the route): what observability costs, judged the same way.
 */
export const ContenderNames = [
  'direct',
  'gateway',
  'gateway-mw5',
  'gateway-accesslog',
  'gateway-prom',
  'undici-baseline',
  'nginx',
] as const;
/**
 * `--balancers`: the gateway in front of 4 origin ports, one contender per load-balancing algorithm, active
 * health checks on (bench/configs/gateway-4-upstreams.yaml).
 */
export const BalancerContenders = [
  'gw4-RoundRobin',
  'gw4-Random',
  'gw4-LeastRequest',
  'gw4-RingHash',
  'gw4-Maglev',
  'gw4-DirectHash',
] as const;
export type BalancerContender = (typeof BalancerContenders)[number];
/**
 * `--fronts`: the gateway with `--workers 2`, behind HTTPS (TLS 1.3, keep-alive), and behind HTTPS with HTTP/2
 * (h2 by ALPN, loaded with h2load; skipped when h2load is not installed), and the undici baseline behind the
 * same HTTPS (what TLS costs a bare Node proxy), and nginx behind the same HTTPS when nginx is installed (what
 * TLS costs a C proxy on this machine, the load generator decrypting on the same cores).
 */
export const FrontContenders = [
  'gateway-2w',
  'gateway-tls',
  'gateway-h2',
  'undici-baseline-tls',
  'undici-baseline-h2',
  'nginx-tls',
] as const;
/**
 * `--throttle`: the gateway with a ThrottleMiddleware that never limits, a token bucket per client address,
 * kept in the process (bench/configs/gateway-throttle.yaml) or in a local redis-server the harness starts
 * (bench/configs/gateway-throttle-redis.yaml; skipped when redis-server is not installed).
 */
export const ThrottleContenders = ['gateway-throttle', 'gateway-throttle-redis'] as const;
export type ThrottleContender = (typeof ThrottleContenders)[number];
/**
 * `--browser`: the gateway with what a browser API's requests go through before the proxy (issue 16): tracking,
 * CORS, a header policy and a cookie session read, each request carrying a valid session cookie and an Origin
 * (bench/configs/gateway-browser.yaml).
 */
export const BrowserContenders = ['gateway-browser'] as const;
export type BrowserContender = (typeof BrowserContenders)[number];
/**
 * `--tracing`: the gateway with an OpenTelemetryTracer (server span, a client span per attempt, OTLP/HTTP export
 * in batches to a loopback sink, bench/configs/gateway-trace.yaml), sampling every new trace or 1 % of them.
 */
export const TracingContenders = ['gateway-trace100', 'gateway-trace1'] as const;
export type TracingContender = (typeof TracingContenders)[number];
/**
 * `--authn`: the gateway with a BasicAuthnMiddleware (a bcrypt user, the verified-credential cache on) or a
 * KeyAuthnMiddleware (a SHA-256 hashed key) or an OAuth resource server (a bearer JWT, RS256 or ES256, with the
 * token cache on, or off: `-nocache`, every request verified) in front of the proxy; the load generator sends the
 * credentials.
 */
export const AuthnContenders = [
  'gateway-basic',
  'gateway-key',
  'gateway-jwt-rs256',
  'gateway-jwt-es256',
  'gateway-jwt-rs256-nocache',
  'gateway-jwt-es256-nocache',
] as const;
export type AuthnContender = (typeof AuthnContenders)[number];
/**
 * `--soap`: a ~4 KiB SOAP 1.1 request POSTed through a SOAPRESTMiddleware to a JSON upstream and its ~4 KiB answer
 * written back as XML (gateway-soap, bench/configs/gateway-soap.yaml), beside the same POST through the plain
 * gateway to the same upstream (gateway-post): the difference is the conversion's cost.
 */
export const SOAPContenders = ['gateway-soap', 'gateway-post'] as const;
export type SOAPContender = (typeof SOAPContenders)[number];
/**
 * `--static`: files served from disk, the same two files (5 B and 64 KiB) by the gateway's StaticFileHandler
 * (bench/configs/gateway-static.yaml) and by nginx (1 worker, sendfile, default file cache settings).
 */
export const StaticContenders = ['gateway-static', 'nginx-static'] as const;
export type StaticContender = (typeof StaticContenders)[number];
/** The contenders that need redis-server (skipped when it is not installed). */
export const RedisContenders: readonly string[] = ['gateway-throttle-redis'];
/** The contenders that are nginx (skipped when it is not installed). */
export const NginxContenders: readonly string[] = ['nginx', 'nginx-tls', 'nginx-static'];
/** The contenders loaded over HTTP/2 (with h2load; skipped when it is not installed). */
export const H2Contenders: readonly string[] = ['gateway-h2', 'undici-baseline-h2'];
export type FrontContender = (typeof FrontContenders)[number];
export type ContenderName =
  | (typeof ContenderNames)[number]
  | BalancerContender
  | FrontContender
  | ThrottleContender
  | StaticContender
  | BrowserContender
  | TracingContender
  | AuthnContender
  | SOAPContender;
const AllContenders: readonly ContenderName[] = [
  ...ContenderNames,
  ...BalancerContenders,
  ...FrontContenders,
  ...ThrottleContenders,
  ...StaticContenders,
  ...BrowserContenders,
  ...TracingContenders,
  ...AuthnContenders,
  ...SOAPContenders,
];

/** The algorithm of a `gw4-*` contender, or undefined for the others. */
export function balancerOf(name: string): string | undefined {
  return name.startsWith('gw4-') ? name.slice(4) : undefined;
}

export interface Scenario {
  /** `small` = GET / (5-byte body), `64k` = GET /64k (65,536 bytes). */
  readonly body: 'small' | '64k';
  readonly conns: number;
  readonly id: string;
}

export interface Options {
  readonly reps: number;
  readonly duration: number;
  /** Warm-up seconds per contender before the first scenario; 1 s before each later one (0 = none). */
  readonly warmup: number;
  readonly only: readonly ContenderName[];
  /** --only was given (so a contender missing from the machine is worth a word). */
  readonly onlyGiven: boolean;
  readonly scenarios: readonly Scenario[];
  readonly generator: 'auto' | 'wrk' | 'autocannon';
  readonly origin: 'auto' | 'node' | 'nginx';
  readonly config: string;
  /** A run during which other people's processes used more than this % of the machine is re-run. */
  readonly maxForeign: number;
  readonly retries: number;
  /** Seconds of re-runs allowed in the whole invocation (keeps it bounded on a busy machine). */
  readonly retryBudget: number;
  /** Fresh processes per Node contender (gateway, undici-baseline) for the cold-start peak; 0 = none. */
  readonly cold: number;
  readonly out: string | undefined;
  readonly check: boolean;
  readonly help: boolean;
}

/** Load runs each fresh process of --cold gets, each after as many seconds of quiet as it lasts. */
export const ColdBursts = 4;

export const DefaultScenarios = 'small:50,small:256,64k:50,64k:256';
export const DefaultConfig = 'bench/configs/gateway.yaml';

export const Usage = `Usage: npm run bench -- [flags]

Loopback load test: the gateway next to the origin hit directly, a minimal undici proxy (the baseline it is
judged against) and nginx (when installed), interleaved in one run. See bench/README.md.

Flags:
  --reps N             repetitions; medians are reported                         [3]
  --duration S         measured seconds per load run                             [3]
  --warmup S           warm-up seconds per contender before the first scenario,
                       then 1 s before each later one (0 = no warm-up)           [4]
  --cold N             also start N fresh processes each of the gateway and undici-baseline, one
                       at a time, and give each ${ColdBursts} runs of the heaviest scenario, each after as
                       many seconds of quiet: the peak RSS of a cold process        [3]
  --quick              smoke run: --reps 1 --duration 2 --cold 0
  --only a,b           contenders among ${ContenderNames.join(', ')}
                       (and those of --balancers, --fronts, --throttle, --static, --browser, --tracing,
                       --authn, --soap)
                                                                                 [all available]
                       gateway-mw5 = the gateway with five no-op middleware on the request context
                       gateway-accesslog = with an HTTPLogger access log written to a file
                       gateway-prom = with a PrometheusMeter on the route (middleware, tripperware)
  --balancers          also the gateway in front of 4 origin ports under each balancer
                       (${BalancerContenders.join(', ')}), active health checks on
  --fronts             also gateway-2w (the gateway with --workers 2), gateway-tls (the gateway
                       behind HTTPS, TLS 1.3, self-signed certificate made with openssl),
                       gateway-h2 (the same with HTTP/2, loaded with h2load when installed), and
                       undici-baseline-tls and undici-baseline-h2 (the baseline behind the same HTTPS,
                       and with HTTP/2: what TLS and HTTP/2 cost a bare Node proxy), and nginx-tls
                       (nginx behind the same HTTPS, when installed: what TLS costs a C proxy here)
  --throttle           also gateway-throttle (a per-client token bucket that never limits, in the
                       process) and gateway-throttle-redis (the same kept in a local redis-server
                       the harness starts; skipped when redis-server is not installed)
  --static             also gateway-static and nginx-static: the same two files (5 B, 64 KiB) served
                       from disk by a StaticFileHandler and by nginx (no proxy, no origin involved)
  --browser            also gateway-browser (tracking, CORS, header policy and a cookie session read
                       before the proxy, each request with a valid session cookie and an Origin:
                       bench/configs/gateway-browser.yaml)
  --tracing            also gateway-trace100 and gateway-trace1: an OpenTelemetryTracer (server and
                       client spans, OTLP/HTTP export to a loopback sink) sampling 100 % and 1 %
  --authn              also gateway-basic (Basic authentication of a bcrypt user, verified-credential
                       cache on), gateway-key (an API key stored as SHA-256) and gateway-jwt-rs256,
                       gateway-jwt-es256 (an OAuth resource server verifying a bearer JWT; -nocache:
                       token cache off) in front of the proxy; the load generator sends the credentials
  --soap               also gateway-soap (a ~4 KiB SOAP 1.1 request POSTed through a SOAPRESTMiddleware
                       to a JSON upstream, its ~4 KiB answer written back as XML) and gateway-post (the
                       same POST through the plain gateway to the same upstream); every scenario sends
                       that request: run them with --scenarios small:50
  --scenarios a,b      body:connections, body = small (5 B) or 64k (64 KiB)
                                                         [${DefaultScenarios}]
  --generator G        auto (wrk when installed, else autocannon), wrk, autocannon   [auto]
  --origin O           auto (nginx when installed, else node), node, nginx       [auto]
  --config FILE        the gateway contender's config; must use \${BENCH_GATEWAY_ADDR} and
                       \${BENCH_ORIGIN_URL} (gateway-mw5 always runs bench/configs/gateway-mw5.yaml)
                                                                                 [${DefaultConfig}]
  --max-foreign PCT    re-run a run during which processes that are not the harness's used more
                       than PCT % of the machine (waiting up to 15 s for a quiet second first)  [5]
  --retries N          re-runs per run                                           [2]
  --retry-budget S     seconds of re-runs allowed in total                       [60]
  --out DIR            results folder                     [.bench-results/<timestamp>]
  --check              exit 1 when a target is missed or a contender failed
  -h, --help           this help
`;

function positiveInt(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag}: expected an integer >= ${min}, found "${text}"`);
  return n;
}

export function parseScenarios(text: string): Scenario[] {
  const out: Scenario[] = [];
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(small|64k):(\d+)$/.exec(item);
    if (!m)
      throw new Error(
        `--scenarios: "${item}" is not body:connections with body small or 64k (e.g. small:50)`,
      );
    const conns = positiveInt('--scenarios', m[2]!, 1);
    if (conns > 10_000)
      throw new Error(`--scenarios: ${conns} connections is more than this harness allows (10000)`);
    if (out.some((s) => s.id === item)) throw new Error(`--scenarios: "${item}" is listed twice`);
    out.push({ body: m[1] as Scenario['body'], conns, id: item });
  }
  if (out.length === 0) throw new Error('--scenarios: no scenario given');
  return out;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${flag}: expected one of ${allowed.join(', ')}, found "${value}"`);
  }
  return value as T;
}

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string', default: '4' },
      quick: { type: 'boolean', default: false },
      cold: { type: 'string' },
      only: { type: 'string' },
      balancers: { type: 'boolean', default: false },
      fronts: { type: 'boolean', default: false },
      throttle: { type: 'boolean', default: false },
      static: { type: 'boolean', default: false },
      browser: { type: 'boolean', default: false },
      tracing: { type: 'boolean', default: false },
      authn: { type: 'boolean', default: false },
      soap: { type: 'boolean', default: false },
      scenarios: { type: 'string', default: DefaultScenarios },
      generator: { type: 'string', default: 'auto' },
      origin: { type: 'string', default: 'auto' },
      config: { type: 'string', default: DefaultConfig },
      'max-foreign': { type: 'string', default: '5' },
      retries: { type: 'string', default: '2' },
      'retry-budget': { type: 'string', default: '60' },
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const only: ContenderName[] = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((n) => oneOf('--only', n, AllContenders))
    : [...ContenderNames];
  if (values.balancers) for (const b of BalancerContenders) if (!only.includes(b)) only.push(b);
  if (values.fronts) for (const f of FrontContenders) if (!only.includes(f)) only.push(f);
  if (values.throttle) for (const t of ThrottleContenders) if (!only.includes(t)) only.push(t);
  if (values.static) for (const t of StaticContenders) if (!only.includes(t)) only.push(t);
  if (values.browser) for (const t of BrowserContenders) if (!only.includes(t)) only.push(t);
  if (values.tracing) for (const t of TracingContenders) if (!only.includes(t)) only.push(t);
  if (values.authn) for (const a of AuthnContenders) if (!only.includes(a)) only.push(a);
  if (values.soap) for (const a of SOAPContenders) if (!only.includes(a)) only.push(a);
  return {
    reps: positiveInt('--reps', values.reps ?? (values.quick ? '1' : '3'), 1),
    duration: positiveInt('--duration', values.duration ?? (values.quick ? '2' : '3'), 1),
    warmup: positiveInt('--warmup', values.warmup, 0),
    only,
    onlyGiven: values.only !== undefined,
    scenarios: parseScenarios(values.scenarios),
    generator: oneOf('--generator', values.generator, ['auto', 'wrk', 'autocannon'] as const),
    origin: oneOf('--origin', values.origin, ['auto', 'node', 'nginx'] as const),
    config: values.config,
    maxForeign: positiveInt('--max-foreign', values['max-foreign'], 0),
    retries: positiveInt('--retries', values.retries, 0),
    retryBudget: positiveInt('--retry-budget', values['retry-budget'], 0),
    cold: positiveInt('--cold', values.cold ?? (values.quick ? '0' : '3'), 0),
    out: values.out,
    check: values.check,
    help: values.help,
  };
}

/**
 * The warm-up order: most connections first, then larger bodies. A process's worst memory peak is the load it
 * meets while still cold (code not yet optimized, V8 still learning which objects live long), so every
 * contender's first seconds are its heaviest scenario and the reported peak RSS includes that moment.
 */
export function heaviestFirst(scenarios: readonly Scenario[]): Scenario[] {
  const weight = (s: Scenario) => s.conns * 2 + (s.body === 'small' ? 0 : 1);
  return [...scenarios].sort((a, b) => weight(b) - weight(a));
}
