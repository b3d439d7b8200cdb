// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${name} expansion templates
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpansion, globRegExp, goRegExp } from './match.ts';

describe('goRegExp (RE2 spellings)', () => {
  it('translates named groups, leading flags and \\A \\z', () => {
    const re = goRegExp('(?P<word>[a-z]+)');
    assert.equal(re.exec('123abc')?.groups?.word, 'abc');
    assert.ok(goRegExp('(?i)^abc').test('ABC'));
    assert.ok(goRegExp('\\Aabc\\z').test('abc'));
    assert.ok(!goRegExp('\\Aabc\\z').test('abc\n'));
  });

  it('rejects what JavaScript cannot do and invalid patterns', () => {
    assert.throws(() => goRegExp('(?U)a+'), /ungreedy/);
    assert.throws(() => goRegExp('(unclosed'), SyntaxError);
  });
});

describe('globRegExp (Go path.Match)', () => {
  it('matches *, ?, classes and escapes against the whole string', () => {
    assert.ok(globRegExp('E21*').test('E2131'));
    assert.ok(!globRegExp('E21*').test('E3131'));
    assert.ok(globRegExp('*').test('anything'));
    assert.ok(!globRegExp('*').test('a/b'), '* does not cross /');
    assert.ok(globRegExp('E213?').test('E2131'));
    assert.ok(globRegExp('Core[SP]*').test('CoreServerNotFound'));
    assert.ok(!globRegExp('Core[^SP]*').test('CoreServerNotFound'));
    assert.ok(globRegExp('a\\*b').test('a*b'));
    assert.ok(!globRegExp('a\\*b').test('axb'));
    assert.ok(globRegExp('text/*').test('text/plain'));
    assert.ok(!globRegExp('text/*').test('application/json'));
  });

  it('rejects malformed patterns', () => {
    assert.throws(() => globRegExp('[abc'), /unclosed/);
    assert.throws(() => globRegExp('abc\\'), /backslash/);
  });
});

describe('compileExpansion (Go Regexp.Expand)', () => {
  const m = /(?<user>\w+)@(\w+)/.exec('mail alice@example now')!;
  it('expands numbered and named groups in both spellings', () => {
    assert.equal(compileExpansion('$1 at $2')(m), 'alice at example');
    assert.equal(compileExpansion('${user}-${2}')(m), 'alice-example');
    assert.equal(compileExpansion('$user')(m), 'alice');
  });
  it('treats $$ as a dollar, takes the longest name, and expands unknown groups to nothing', () => {
    assert.equal(compileExpansion('$$1')(m), '$1');
    assert.equal(compileExpansion('$1x')(m), '', '$1x names the group "1x", which does not exist');
    assert.equal(compileExpansion('${1}x')(m), 'alicex');
    assert.equal(compileExpansion('$9')(m), '');
    assert.equal(compileExpansion('cost: $')(m), 'cost: $');
  });
});
