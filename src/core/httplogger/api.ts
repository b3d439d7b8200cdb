/**
 * core/v1 HTTPLogger: access logs as server middleware and as client tripperware. See
 * docs/reference/core/httplogger.md.
 */
import { defineResource } from '../../kernel/resource.ts';
import { Enum, Obj, RefTo, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { compileReplacers, Replacers, replacerProblems } from '../common/replacer.ts';
import { checkTimeZone, timeFormatter } from '../common/timefmt.ts';
import { LoggerRole } from '../roles.ts';
import { type BodyDirectory, bodyDirectory } from './bodyfiles.ts';
import { AccessLogPresets, compileAccessLine } from './clf.ts';
import { HTTPLogger } from './httplogger.ts';
import {
  type BodyPolicy,
  type BodyRule,
  compileHeaderPolicy,
  compileLineFormat,
  type Direction,
  RequestTags,
  ResponseTags,
  splitJsonPath,
} from './logging.ts';

export const DefaultMimes = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/soap+xml',
  'application/graphql+json',
  'text/plain',
  'text/html',
  'text/xml',
];

const LoggingSpec = Obj(
  {
    headers: Type.Array(
      Obj({
        name: Type.String({ minLength: 1, description: 'header name; "*" = every header' }),
        replacers: Replacers('applied in order to the header value'),
      }),
      { default: [], description: 'headers to log, with their replacers; none = no headers' },
    ),
    bodies: Type.Array(
      Obj({
        mime: Type.String({ minLength: 1, description: 'media type of the bodies these replacers apply to' }),
        replacers: Replacers('applied in order to the body (or to the jsonFields)'),
        jsonFields: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'dotted paths (a.b.0.c) of the JSON values replaced; empty = the whole body',
        }),
      }),
      { default: [], description: 'journal mode: replacers for bodies of a media type' },
    ),
    queries: Replacers('applied in order to the raw query string (request side only)'),
    logFormat: Type.String({
      default: '',
      description: 'a custom line instead of the JSON group; "" = JSON',
    }),
    bodyOutputPath: Type.String({
      default: '',
      description:
        'journal mode: directory where bodies of maxContentLength bytes or more are written, one file per body ' +
        '(body-<request id>.<svr|cli>.<req|res>.bin, mode 0600); "" = such bodies are not logged',
    }),
    bodyOutputFileMaxBytes: Type.Integer({
      default: 10485760,
      minimum: 1,
      description:
        'bodyOutputPath: bytes written per body file at most; the rest is cut (bodyTruncated: true)',
    }),
    bodyOutputTotalMaxBytes: Type.Integer({
      default: 104857600,
      minimum: 1,
      description:
        'bodyOutputPath: bytes this process keeps in the directory at most; the oldest body files are deleted first',
    }),
    base64: Type.Boolean({ default: false, description: 'journal mode: log bodies base64-encoded' }),
    maxContentLength: Type.Integer({
      default: 4096,
      description: 'journal mode: bodies are logged only if shorter (bytes); <= 0 = no bodies',
    }),
    mimes: Type.Array(Type.String({ minLength: 1 }), {
      default: DefaultMimes,
      description: 'journal mode: media types whose bodies are logged',
    }),
  },
  { default: {}, description: 'what is logged of this side of the exchange' },
);
type LoggingSpec = Static<typeof LoggingSpec>;

/** Credentials that never reach an access log unless the configuration says so (not in AILERON). */
export const DefaultMaskedHeaders = [
  'Authorization',
  'Proxy-Authorization',
  'Cookie',
  'Set-Cookie',
  'X-Api-Key',
];

export const HTTPLoggerSpec = Obj({
  logger: Type.Optional(RefTo('Logger', { description: "where entries go; unset = the resource's logger" })),
  errorHandler: Type.Optional(RefTo('ErrorHandler', { description: 'accepted; unused' })),
  journal: Type.Boolean({ default: false, description: 'also log request and response bodies' }),
  preset: Enum(AccessLogPresets, {
    default: 'JSON',
    description: 'server entries as JSON (AILERON), or as NCSA Common / Combined Log Format lines',
  }),
  timezone: Type.String({ default: 'Local', description: 'zone of the times: Local, UTC or an IANA name' }),
  timeFormat: Type.String({
    default: '2006-01-02 15:04:05.000',
    description: 'Go time layout of request.time and response.time',
  }),
  request: LoggingSpec,
  response: LoggingSpec,
  maskedHeaders: Type.Array(Type.String({ minLength: 1 }), {
    default: DefaultMaskedHeaders,
    description:
      'headers logged as #MASKED# (both sides) unless their headers entry has its own replacers; [] = mask none',
  }),
});
export type HTTPLoggerSpec = Static<typeof HTTPLoggerSpec>;

function directionProblems(spec: LoggingSpec, side: 'request' | 'response'): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  spec.headers.forEach((h, i) => {
    problems.push(...replacerProblems(h.replacers, [side, 'headers', i, 'replacers']));
  });
  spec.bodies.forEach((b, i) => {
    problems.push(...replacerProblems(b.replacers, [side, 'bodies', i, 'replacers']));
  });
  problems.push(...replacerProblems(spec.queries, [side, 'queries']));
  return problems;
}

/** The body-file directory, created at start-up; one that cannot be made stops the gateway, naming the field. */
function openBodyDirectory(spec: LoggingSpec, side: 'request' | 'response'): BodyDirectory {
  try {
    return bodyDirectory(spec.bodyOutputPath, spec.bodyOutputTotalMaxBytes);
  } catch (err) {
    throw new Error(
      `spec.${side}.bodyOutputPath: cannot create directory "${spec.bodyOutputPath}": ${(err as Error).message}`,
    );
  }
}

function compileDirection(
  spec: LoggingSpec,
  side: 'request' | 'response',
  journal: boolean,
  masked: readonly string[],
): Direction {
  let bodies: BodyPolicy | undefined;
  if (journal) {
    const rules = new Map<string, BodyRule>();
    for (const b of spec.bodies) {
      rules.set(b.mime.toLowerCase(), {
        replace: compileReplacers(b.replacers),
        jsonFields: b.jsonFields.map(splitJsonPath),
      });
    }
    bodies = {
      mimes: new Set(spec.mimes.map((m) => m.toLowerCase())),
      maxContentLength: spec.maxContentLength,
      base64: spec.base64,
      rules,
      files: spec.bodyOutputPath
        ? {
            directory: openBodyDirectory(spec, side),
            maxFileBytes: spec.bodyOutputFileMaxBytes,
          }
        : undefined,
    };
  }
  return {
    headers: compileHeaderPolicy(spec.headers, masked),
    // AILERON applies query replacers to requests only.
    query: side === 'request' ? compileReplacers(spec.queries) : undefined,
    format: spec.logFormat
      ? compileLineFormat(spec.logFormat, side === 'request' ? RequestTags : ResponseTags)
      : undefined,
    bodies,
  };
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'HTTPLogger',
  summary: 'Access logs for requests (server middleware) and upstream round trips (client tripperware).',
  spec: HTTPLoggerSpec,
  roles: ['Middleware', 'Tripperware'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    try {
      checkTimeZone(spec.timezone);
    } catch {
      problems.push({
        path: ['timezone'],
        message: `unknown time zone "${spec.timezone}"`,
        hint: 'use Local, UTC or an IANA name such as Asia/Tokyo',
      });
    }
    if (spec.preset !== 'JSON') {
      for (const side of ['request', 'response'] as const)
        if (spec[side].logFormat)
          problems.push({
            path: [side, 'logFormat'],
            message: `a logFormat cannot be combined with preset ${spec.preset}`,
            hint: 'remove the logFormat, or set preset: JSON (the default) to use it',
          });
      if (spec.journal)
        problems.push({
          path: ['journal'],
          message: `preset ${spec.preset} lines have no bodies`,
          hint: 'set journal: false, or preset: JSON to log bodies',
        });
    }
    for (const side of ['request', 'response'] as const) {
      const d = spec[side];
      if (d.bodyOutputPath && d.bodyOutputFileMaxBytes > d.bodyOutputTotalMaxBytes)
        problems.push({
          path: [side, 'bodyOutputFileMaxBytes'],
          message: `${d.bodyOutputFileMaxBytes} is more than bodyOutputTotalMaxBytes (${d.bodyOutputTotalMaxBytes})`,
          hint: 'make bodyOutputFileMaxBytes at most bodyOutputTotalMaxBytes',
        });
    }
    problems.push(
      ...directionProblems(spec.request, 'request'),
      ...directionProblems(spec.response, 'response'),
    );
    return problems;
  },
  async create(ctx, manifest) {
    const spec = manifest.spec;
    const logger = spec.logger
      ? (await ctx.get(spec.logger, LoggerRole, ['spec', 'logger'])).child({ resource: ctx.id })
      : ctx.logger;
    return new HTTPLogger({
      logger,
      time: timeFormatter(spec.timeFormat, spec.timezone),
      accessLine: compileAccessLine(spec.preset, spec.timezone),
      request: compileDirection(spec.request, 'request', spec.journal, spec.maskedHeaders),
      response: compileDirection(spec.response, 'response', spec.journal, spec.maskedHeaders),
    });
  },
});
