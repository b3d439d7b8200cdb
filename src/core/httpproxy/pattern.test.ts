import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileAny,
  compileRegExp,
  compileTemplate,
  compileTest,
  globToRegExp,
  PatternError,
} from './pattern.ts';

describe('compileTest', () => {
  const cases: [Parameters<typeof compileTest>[0], string, string, boolean][] = [
    ['Exact', '/a', '/a', true],
    ['Exact', '/a', '/a/', false],
    ['Prefix', '/api', '/api/x', true],
    ['Prefix', '/api', '/ap', false],
    ['Suffix', '.json', '/x.json', true],
    ['Suffix', '.json', '/x.jsonp', false],
    ['Contains', '/v1/', '/api/v1/x', true],
    ['Contains', '/v1/', '/api/v2/x', false],
    ['Path', '/api/*/items', '/api/42/items', true],
    ['Path', '/api/*/items', '/api/4/2/items', false],
    ['Path', '/file?.txt', '/file1.txt', true],
    ['Path', '/[a-c]x', '/bx', true],
    ['Path', '/[^a-c]x', '/dx', true],
    ['Path', '/[^a-c]x', '/ax', false],
    ['Path', '/\\*', '/*', true],
    ['Path', '/\\*', '/a', false],
    ['FilePath', '/img/*.png', '/img/a.png', true],
    ['FilePath', '/img/*.png', '/img/a/b.png', false],
    ['Regex', '^/users/[0-9]+$', '/users/12', true],
    ['Regex', '^/users/[0-9]+$', '/users/x', false],
    ['RegexPOSIX', '^/a(b|bc)$', '/abc', true],
  ];
  for (const [type, pattern, input, want] of cases) {
    it(`${type} ${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${input}`, () => {
      assert.equal(compileTest(type, pattern)(input), want);
    });
  }
});

describe('globToRegExp', () => {
  for (const bad of ['[', '[]', '/a[', '\\', '[z-a]', '[a-]']) {
    it(`rejects ${JSON.stringify(bad)} like Go's ErrBadPattern`, () => {
      assert.throws(() => globToRegExp(bad), PatternError);
    });
  }
});

describe('compileRegExp', () => {
  it('translates RE2 spellings: (?P<name>), (?i), \\A and \\z', () => {
    const re = compileRegExp('(?i)\\A/(?P<id>[a-z]+)\\z');
    const m = re.exec('/ABC');
    assert.equal(m?.groups?.id, 'ABC');
    assert.equal(re.test('/ABC\n'), false);
  });
  it('rejects (?U) and invalid syntax with a hint', () => {
    assert.throws(
      () => compileRegExp('(?U)a+'),
      (e: unknown) => e instanceof PatternError && /ungreedy/.test(e.hint),
    );
    assert.throws(
      () => compileRegExp('a('),
      (e: unknown) => e instanceof PatternError && /invalid/.test(e.message),
    );
  });
});

describe('compileAny', () => {
  it('ORs the patterns and never matches with none', () => {
    assert.equal(compileAny('Exact', ['a', 'b'])('b'), true);
    assert.equal(compileAny('Exact', ['a', 'b'])('c'), false);
    assert.equal(compileAny('Prefix', [])(''), false);
  });
});

describe('compileTemplate (Go Regexp.Expand)', () => {
  const expand = (template: string, re: RegExp, input: string) => compileTemplate(template)(re.exec(input)!);
  it('expands numbered and named groups, braced or not', () => {
    const re = /^\/(?<a>\w+)\/(\w+)$/;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go template syntax, not a JavaScript template
    assert.equal(expand('/$1-${2}-$a-${a}', re, '/x/y'), '/x-y-x-x');
  });
  it('treats $1x as the (missing) group "1x", as Go does', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go template syntax, not a JavaScript template
    assert.equal(expand('/$1x/${1}x', /^\/(\w)$/, '/q'), '//qx');
  });
  it('writes $$ as $ and keeps a malformed $ as text', () => {
    assert.equal(expand('$$-$-${', /x/, 'x'), '$-$-${');
  });
});
