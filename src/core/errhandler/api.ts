/**
 * core/v1 ErrorHandler: turns errors into responses, with optional custom bodies per path, error code, kind or
 * message. See docs/reference/core/errorhandler.md.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { defineResource } from '../../kernel/resource.ts';
import { type FieldPath, Obj, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { globRegExp, goRegExp, PatternError } from '../common/match.ts';
import {
  type CompiledContent,
  compileContent,
  compileTemplate,
  MIMEContentSpec,
} from '../common/mimecontent.ts';
import { type CompiledMessage, DefaultErrorLogsPerSecond, HTTPErrorHandler } from './handler.ts';

/** Names an error template may use: `{{.status}}`, `{{.statusText}}`, `{{.code}}`, `{{.kind}}`. */
export const ErrorTemplateKeys = ['status', 'statusText', 'code', 'kind'] as const;

const Patterns = (description: string) =>
  Type.Array(Type.String({ minLength: 1 }), { default: [], uniqueItems: true, description });

const ErrorMessageSpec = Obj({
  paths: Patterns('regular expressions on the URL path; empty = every path'),
  codes: Patterns('globs on the error code, e.g. E21*'),
  kinds: Patterns('globs on the error kind, e.g. CoreServer*'),
  messages: Patterns('regular expressions on "<code>.<Kind> <message>"'),
  headerTemplate: Type.Record(Type.String(), Type.String(), {
    default: {},
    description:
      'headers added to the response; values may use {{status}}, {{statusText}}, {{code}}, {{kind}}',
  }),
  mimeContents: Type.Array(MIMEContentSpec, {
    default: [],
    description: 'bodies by media type, chosen by Accept; empty = the default body',
  }),
});

export const ErrorHandlerSpec = Obj({
  stackAlways: Type.Boolean({
    default: false,
    description: 'also log the stack of client errors (status < 500); server errors always have it',
  }),
  maxErrorLogsPerSecond: Type.Integer({
    default: DefaultErrorLogsPerSecond,
    minimum: 0,
    description:
      'addition: most ERROR lines per second for one status and error code, the rest counted in one line; 0 = all',
  }),
  errorMessages: Type.Array(ErrorMessageSpec, {
    default: [],
    description: 'custom responses; the first entry whose paths, codes, kinds and messages match is used',
  }),
});
export type ErrorHandlerSpec = Static<typeof ErrorHandlerSpec>;

type Compiler<T> = (pattern: string) => T;

function compileList(
  list: readonly string[],
  compile: Compiler<RegExp>,
  path: FieldPath,
  problems: SchemaProblem[],
): RegExp[] {
  const out: RegExp[] = [];
  list.forEach((p, i) => {
    try {
      out.push(compile(p));
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.push({ path: [...path, i], message: err.message, hint: err.hint });
    }
  });
  return out;
}

function headerProblems(
  headers: Record<string, string>,
  path: FieldPath,
  problems: SchemaProblem[],
  checkValue: boolean,
) {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name);
      if (checkValue) validateHeaderValue(name, value);
    } catch (err) {
      problems.push({
        path: [...path, name],
        message: (err as Error).message,
        hint: 'header names are tokens; values have no line breaks',
      });
    }
  }
}

/**
 * Compiles every entry. Problems found without reading files are returned (validate), file problems too when
 * `readFiles` is set (create).
 */
function compileMessages(
  spec: ErrorHandlerSpec,
  readFiles: boolean,
  problems: SchemaProblem[],
): CompiledMessage[] {
  const out: CompiledMessage[] = [];
  spec.errorMessages.forEach((m, i) => {
    const base = ['errorMessages', i];
    const paths = compileList(m.paths, (p) => goRegExp(p), [...base, 'paths'], problems);
    const codes = compileList(m.codes, globRegExp, [...base, 'codes'], problems);
    const kinds = compileList(m.kinds, globRegExp, [...base, 'kinds'], problems);
    const messages = compileList(m.messages, (p) => goRegExp(p), [...base, 'messages'], problems);
    headerProblems(m.headerTemplate, [...base, 'headerTemplate'], problems, false);
    const headerTemplates: Array<readonly [string, ReturnType<typeof compileTemplate>]> = [];
    for (const [name, text] of Object.entries(m.headerTemplate)) {
      try {
        headerTemplates.push([name, compileTemplate(text, 'GoText', ErrorTemplateKeys, { allowBare: true })]);
      } catch (err) {
        problems.push({ path: [...base, 'headerTemplate', name], message: (err as Error).message });
      }
    }
    const contents: CompiledContent[] = [];
    m.mimeContents.forEach((c, j) => {
      const at = [...base, 'mimeContents', j];
      headerProblems(c.header, [...at, 'header'], problems, true);
      if (c.templateFile && !readFiles) return;
      try {
        contents.push(compileContent(c, ErrorTemplateKeys));
      } catch (err) {
        problems.push({
          path: [...at, c.templateFile ? 'templateFile' : 'template'],
          message: (err as Error).message,
          ...(c.templateFile ? { hint: 'check the path (relative to the working directory)' } : {}),
        });
      }
    });
    out.push({ paths, codes, kinds, messages, headerTemplates, contents });
  });
  return out;
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'ErrorHandler',
  summary:
    'Writes error responses (status text as JSON/XML/YAML by Accept, or custom bodies) and logs errors.',
  spec: ErrorHandlerSpec,
  roles: ['ErrorHandler'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    compileMessages(spec, false, problems);
    return problems;
  },
  preflight(spec) {
    // The template files (validate() checked everything else).
    const problems: SchemaProblem[] = [];
    compileMessages(spec, true, problems);
    return problems.filter((p) => p.path.at(-1) === 'templateFile');
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const problems: SchemaProblem[] = [];
    const compiled = compileMessages(spec, true, problems);
    const first = problems[0];
    if (first) ctx.fail(['spec', ...first.path], first.message, first.hint ? { hint: first.hint } : {});
    const messages = compiled.filter((m, i) => {
      if (m.contents.length > 0) return true;
      ctx.logger.warn(`spec.errorMessages[${i}] has no mimeContents and is ignored`);
      return false;
    });
    return new HTTPErrorHandler({
      logger: ctx.logger,
      stackAlways: spec.stackAlways,
      maxErrorLogsPerSecond: spec.maxErrorLogsPerSecond,
      messages,
    });
  },
});
