/**
 * core/v1 TemplateHandler: answers with a body chosen by the request's `Accept` among its contents, written as
 * text or as a Go template over the request (aileron-core.md §6.10). See docs/reference/core/templatehandler.md.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { defineResource } from '../../kernel/resource.ts';
import { MethodList, methodList, Obj, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { compileContent, TemplateType } from '../common/mimecontent.ts';
import { errorHandlerFor } from '../services.ts';
import { type TemplateContent, TemplateHandler } from './handler.ts';
import { RequestInfoKeys } from './requestinfo.ts';

/** AILERON's MIMEContentSpec with the TemplateHandler's defaults (its mutate: text/plain, 200). */
const TemplateContentSpec = Obj({
  mimeType: Type.String({
    default: 'text/plain',
    pattern: '^[a-z]+/[0-9a-zA-Z.+-]+$',
    description: 'the media type of this content, matched against Accept',
  }),
  statusCode: Type.Integer({
    default: 200,
    minimum: 0,
    maximum: 999,
    description: 'the response status; 0 = 200, as AILERON',
  }),
  header: Type.Record(Type.String(), Type.String(), {
    default: {},
    description: 'headers added to the response as written',
  }),
  templateType: TemplateType,
  template: Type.String({ default: '', description: 'the body, or its template' }),
  templateFile: Type.String({
    default: '',
    description:
      'file read at start-up (and at each reload), relative to the working directory; wins over template',
  }),
});

export const TemplateHandlerSpec = Obj({
  patterns: Type.Array(Type.String(), {
    default: [],
    uniqueItems: true,
    description: "route paths of the handler; none = the handler entry's pattern",
  }),
  methods: MethodList('methods the route accepts; empty = all'),
  mimeContents: Type.Array(TemplateContentSpec, {
    default: [],
    description: 'bodies by media type; the first one the Accept header matches is sent; none matches = 406',
  }),
});
export type TemplateHandlerSpec = Static<typeof TemplateHandlerSpec>;

/** Reads and compiles every content; problems (a bad template, an unreadable file) name the field. */
function compileContents(
  spec: TemplateHandlerSpec,
  readFiles: boolean,
  problems: SchemaProblem[],
): TemplateContent[] {
  const out: TemplateContent[] = [];
  spec.mimeContents.forEach((c, i) => {
    const at = ['mimeContents', i];
    if (c.statusCode > 0 && c.statusCode < 100)
      problems.push({
        path: [...at, 'statusCode'],
        message: 'statusCode must be a response status, 100 to 999 (or 0 for 200)',
        found: String(c.statusCode),
      });
    for (const [name, value] of Object.entries(c.header)) {
      try {
        validateHeaderName(name);
        validateHeaderValue(name, value);
      } catch (err) {
        problems.push({
          path: [...at, 'header', name],
          message: (err as Error).message,
          hint: 'header names are tokens; values have no line breaks',
        });
      }
    }
    if (c.templateFile && !readFiles) return;
    try {
      const compiled = compileContent({ ...c, statusCode: c.statusCode || 200 }, RequestInfoKeys);
      const constant = c.templateType === 'Text' ? Buffer.from(compiled.render({})) : undefined;
      out.push({ ...compiled, constant });
    } catch (err) {
      problems.push({
        path: [...at, c.templateFile ? 'templateFile' : 'template'],
        message: (err as Error).message,
        ...(c.templateFile ? { hint: 'check the path (relative to the working directory)' } : {}),
      });
    }
  });
  return out;
}

export const resource = defineResource({
  apiVersion: 'core/v1',
  kind: 'TemplateHandler',
  summary: 'Answers with a body chosen by Accept: text, or a Go template over the request (GoText, GoHTML).',
  spec: TemplateHandlerSpec,
  roles: ['Handler'],
  validate(spec) {
    const problems: SchemaProblem[] = [];
    compileContents(spec, false, problems);
    return problems;
  },
  preflight(spec) {
    // The template files (validate() checked everything else).
    const problems: SchemaProblem[] = [];
    compileContents(spec, true, problems);
    return problems.filter((p) => p.path.at(-1) === 'templateFile');
  },
  create(ctx, manifest) {
    const spec = manifest.spec;
    const problems: SchemaProblem[] = [];
    const contents = compileContents(spec, true, problems);
    const first = problems[0];
    if (first) ctx.fail(['spec', ...first.path], first.message, first.hint ? { hint: first.hint } : {});
    if (contents.length === 0)
      ctx.logger.warn('TemplateHandler has no mimeContents: every request gets 406 Not Acceptable');
    return new TemplateHandler({
      patterns: spec.patterns,
      methods: methodList(spec.methods),
      contents,
      errorHandler: errorHandlerFor(ctx, manifest),
    });
  },
});
