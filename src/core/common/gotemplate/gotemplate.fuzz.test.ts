/**
 * Seeded fuzz of the template parser and evaluator: templates built from the pieces of Go's syntax (delimiters,
 * trim markers, keywords, quotes, parentheses, pipes, variables, numbers) and from HTML. Properties: compiling
 * either succeeds or throws a TemplateSyntaxError with a line; rendering either succeeds or throws a
 * TemplateExecError; nothing else is thrown (no TypeError, no stack overflow) and each case stays fast, deep
 * nesting included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGoTemplate, TemplateExecError, TemplateSyntaxError, typedMap } from './index.ts';

/** mulberry32: the cases are the same on every run; a failure names its seed and case. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const Pieces = [
  '{{',
  '}}',
  '{{- ',
  ' -}}',
  '{{/*',
  '*/}}',
  ' ',
  '\n',
  '.',
  '.a',
  '.b.c',
  '.list',
  '.header',
  '$',
  '$x',
  '$i',
  ':=',
  '=',
  ',',
  '|',
  '(',
  ')',
  '"s"',
  '"\\',
  '`raw`',
  "'c'",
  '1',
  '-2',
  '3.5',
  '1e3',
  '0x1F',
  'true',
  'nil',
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'index',
  'len',
  'printf',
  '"%d %s %v %q %5.2f"',
  'eq',
  'lt',
  'and',
  'or',
  'not',
  'slice',
  'html',
  'js',
  'urlquery',
  'print',
  '<a href="',
  '">',
  '<script>',
  '</script>',
  '<!--',
  '-->',
  ' onclick=',
  "'",
  '<p>',
  '&',
  'é',
  '\0',
];

const data = {
  a: 'x',
  b: { c: 1 },
  list: [1, 'two', [3]],
  header: typedMap({ Accept: ['*/*'] }, [], 'http.Header'),
};

const Cases = 20_000;

describe('Go template fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: ${Cases} templates end in output or a clear error`, () => {
      const next = rng(seed);
      let compiled = 0;
      for (let n = 0; n < Cases; n++) {
        const len = 1 + Math.floor(next() * 24);
        let t = '';
        for (let i = 0; i < len; i++) t += Pieces[Math.floor(next() * Pieces.length)];
        const html = next() < 0.5;
        const started = performance.now();
        try {
          const render = compileGoTemplate(t, { html });
          compiled++;
          try {
            assert.equal(typeof render(data), 'string');
          } catch (err) {
            if (!(err instanceof TemplateExecError)) throw err;
            assert.match(err.message, /^template: line \d+: /);
          }
        } catch (err) {
          if (err instanceof TemplateSyntaxError) assert.match(err.message, /^template: line \d+: /);
          else
            assert.fail(
              `seed ${seed} case ${n} (${JSON.stringify(t)}, html ${html}): ${(err as Error).stack}`,
            );
        }
        assert.ok(
          performance.now() - started < 1000,
          `seed ${seed} case ${n} took too long: ${JSON.stringify(t)}`,
        );
      }
      assert.ok(compiled > 100, `only ${compiled} templates compiled: the pieces no longer make templates`);
    });
  }

  it('deep and long hostile templates end in an error, fast', () => {
    const hostile = [
      '{{if 1}}'.repeat(20_000),
      `{{${'('.repeat(20_000)}`,
      '{{range .list}}'.repeat(20_000),
      `{{${'.a'.repeat(20_000)}}}`,
      `{{"${'\\'.repeat(20_001)}"}}`,
      '{{/*'.repeat(10_000),
      `${'{{'.repeat(20_000)}`,
      `{{with .b}}${'{{else with .a}}'.repeat(10_000)}{{end}}`,
    ];
    for (const t of hostile) {
      const started = performance.now();
      let result: unknown;
      try {
        result = compileGoTemplate(t)(data);
      } catch (err) {
        result = err;
      }
      assert.ok(
        result instanceof TemplateSyntaxError ||
          result instanceof TemplateExecError ||
          typeof result === 'string',
        `${t.slice(0, 40)}...: ${String(result).slice(0, 200)}`,
      );
      assert.ok(
        performance.now() - started < 2000,
        `${t.slice(0, 40)}... took ${performance.now() - started} ms`,
      );
    }
  });
});
