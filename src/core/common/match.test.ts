// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${name} expansion templates
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileAny,
  compileExpansion,
  compileTest,
  escapeRegExp,
  globRegExp,
  goRegExp,
  type MatchType,
  PatternError,
} from './match.ts';

/** Asserts that compiling throws a PatternError whose message and hint match. */
function refuses(compile: () => unknown, message: RegExp, hint?: RegExp): void {
  assert.throws(compile, (e: unknown) => {
    assert.ok(e instanceof PatternError, `expected a PatternError, got ${String(e)}`);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint, hint);
    return true;
  });
}

describe('compileTest (MatchType)', () => {
  const cases: [MatchType, string, string, boolean][] = [
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
    ['Regex', '^/\\pL+$', '/héllo', true],
    ['RegexPOSIX', '^/a(b|bc)$', '/abc', true],
  ];
  for (const [type, pattern, input, want] of cases) {
    it(`${type} ${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${input}`, () => {
      assert.equal(compileTest(type, pattern)(input), want);
    });
  }
});

describe('compileAny', () => {
  it('ORs the patterns and never matches with none', () => {
    assert.equal(compileAny('Exact', ['a', 'b'])('b'), true);
    assert.equal(compileAny('Exact', ['a', 'b'])('c'), false);
    assert.equal(compileAny('Prefix', [])(''), false);
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
    assert.ok(globRegExp('[\\]x]').test(']'), 'an escaped ] in a class');
  });

  it('? is one character, as Go reads runes, also outside the BMP', () => {
    assert.ok(globRegExp('a?b').test('a😀b'));
    assert.ok(globRegExp('[😀-😂]').test('😁'));
  });

  for (const bad of ['[', '[]', '/a[', '\\', '[z-a]', '[a-]', '[]a]', 'abc\\']) {
    it(`rejects ${JSON.stringify(bad)} like Go's ErrBadPattern`, () => {
      refuses(() => globRegExp(bad), /^invalid glob /, /path\.Match/);
    });
  }
});

describe('goRegExp: RE2 spellings JavaScript lacks', () => {
  it('named groups (?P<name>) and (?<name>)', () => {
    assert.equal(goRegExp('(?P<word>[a-z]+)').exec('123abc')?.groups?.word, 'abc');
    assert.equal(goRegExp('(?<word>[a-z]+)').exec('123abc')?.groups?.word, 'abc');
  });

  it('\\A and \\z anchor at the text, even in multi-line mode', () => {
    const re = goRegExp('(?m)\\Aabc\\z');
    assert.ok(re.test('abc'));
    assert.ok(!re.test('abc\n'));
    assert.ok(!re.test('x\nabc'));
  });

  it('flags in front, in the middle (up to the end of the group, across |) and scoped (?i:...)', () => {
    assert.ok(goRegExp('(?i)^abc').test('ABC'));
    const mid = goRegExp('^(?:a(?i)b|c)$');
    assert.ok(mid.test('aB'));
    assert.ok(mid.test('C'), 'the flag lasts past the |');
    assert.ok(!mid.test('AB'), 'but not before it was set');
    assert.ok(goRegExp('^(?i:a)b$').test('Ab'));
    assert.ok(!goRegExp('^(?i:a)b$').test('AB'), 'a scoped flag ends with its group');
    assert.ok(!goRegExp('(?i)^a(?-i)b$').test('AB'));
    assert.ok(goRegExp('(?i)^(a)b$').test('AB'), 'a capture group keeps the flags around it');
  });

  it('(?U) swaps greedy and lazy quantifiers', () => {
    assert.equal(goRegExp('(?U)a+').exec('aaa')?.[0], 'a');
    assert.equal(goRegExp('(?U)a+?').exec('aaa')?.[0], 'aaa');
    assert.equal(goRegExp('(?U:a{1,3})a*').exec('aaa')?.[0], 'aaa');
    assert.equal(goRegExp('(?U:a{1,3})').exec('aaa')?.[0], 'a');
  });

  it('Unicode classes \\pL, \\p{Greek}, \\PN, \\p{^Greek}, also inside [...]', () => {
    assert.ok(goRegExp('^\\pL+$').test('Grüße'));
    assert.ok(!goRegExp('^\\pL+$').test('a1'));
    assert.ok(goRegExp('^\\p{Greek}+$').test('αβγ'));
    assert.ok(!goRegExp('^\\p{Greek}+$').test('abc'));
    assert.ok(goRegExp('^\\PN+$').test('abc'));
    assert.ok(!goRegExp('^\\PN+$').test('a1'));
    assert.ok(goRegExp('^\\p{^Greek}+$').test('abc'));
    assert.ok(goRegExp('^\\P{^Greek}$').test('α'), '\\P{^X} is \\p{X}');
    assert.ok(goRegExp('^[\\p{Lu}\\d]+$').test('AB12'));
    assert.ok(goRegExp('^\\p{Any}$').test('😀'));
    refuses(() => goRegExp('\\p{Klingon}'), /unknown Unicode class \\p\{Klingon\}/, /\\p\{Greek\}/);
    refuses(() => goRegExp('\\p'), /without a class name/);
    refuses(() => goRegExp('\\p{L'), /unclosed/);
  });

  it('POSIX classes [[:alpha:]] and [[:^digit:]], ASCII as in Go', () => {
    const alpha = goRegExp('^[[:alpha:]]+$');
    assert.ok(alpha.test('abcXYZ'));
    assert.ok(!alpha.test('é'), 'ASCII letters only');
    assert.ok(goRegExp('^[[:^digit:][:space:]]+$').test('a b\t'));
    assert.ok(!goRegExp('^[[:^digit:]]+$').test('a1'));
    assert.ok(goRegExp('^[[:punct:]]+$').test('!/:@[`{~'));
    assert.ok(goRegExp('^[[:xdigit:]_]+$').test('09afAF_'));
    assert.ok(goRegExp('^[[:alpha]$').test(':'), 'without :] it is a plain class, as in Go');
    refuses(() => goRegExp('[[:letters:]]'), /unknown POSIX class \[:letters:\]/, /\[:alpha:\]/);
  });

  it('under (?i) a negated class is folded before it is negated, as in Go', () => {
    for (const pattern of [
      '(?i)^\\P{Lu}$',
      '(?i)^[^a-z]$',
      '(?i)^[[:^lower:]]$',
      '(?i)^[[:^lower:]0]$',
      '(?i)^[\\PL0]$',
    ]) {
      const re = goRegExp(pattern);
      assert.ok(!re.test('a') && !re.test('A'), pattern);
      assert.ok(re.test('0'), pattern);
    }
  });

  it('\\Q...\\E is literal text, to \\E or the end', () => {
    assert.ok(goRegExp('^\\Qa.b*(c)\\E$').test('a.b*(c)'));
    assert.ok(!goRegExp('^\\Qa.b\\E$').test('axb'));
    assert.ok(goRegExp('^\\Q[x]').test('[x]'));
    assert.equal(goRegExp('\\Qab\\E+').exec('abbb')?.[0], 'abbb', 'a quantifier repeats the last character');
  });

  it('escapes: \\x41, \\x{1F600}, octal, \\a, and \\ before any punctuation', () => {
    assert.ok(goRegExp('^\\x41\\x{1F600}$').test('A😀'));
    assert.ok(goRegExp('^\\101\\0$').test('A\0'));
    assert.ok(goRegExp('^\\a$').test('\x07'));
    assert.ok(goRegExp('^\\!\\#\\-\\_\\<$').test('!#-_<'));
    assert.ok(goRegExp('^[\\x{61}-\\x{63}]+$').test('abc'));
  });

  it('Go meanings: . is not \\n only, \\s is [\\t\\n\\f\\r ], (?m) anchors at \\n only, . is one code point', () => {
    assert.ok(goRegExp('^.$').test('\r'), 'JavaScript . excludes \\r; Go . does not');
    assert.ok(!goRegExp('^.$').test('\n'));
    assert.ok(goRegExp('(?s)^.$').test('\n'));
    assert.ok(!goRegExp('\\s').test('\u00a0'), 'JavaScript \\s has NBSP; Go \\s does not');
    assert.ok(!goRegExp('\\s').test('\v'));
    assert.ok(goRegExp('^\\S$').test('\u00a0'));
    assert.ok(goRegExp('^[\\S]$').test('\v'));
    assert.ok(goRegExp('(?m)^b$').test('a\nb\nc'));
    assert.ok(!goRegExp('(?m)^b$').test('a\rb\rc'), 'only \\n ends a line in Go');
    assert.ok(!goRegExp('^b$').test('a\nb'), 'without m, ^ and $ are the text');
    assert.ok(goRegExp('^.$').test('😀'));
  });

  it('braces that are not a repetition are literal; a quantified assertion is allowed', () => {
    assert.ok(goRegExp('^a{,3}$').test('a{,3}'));
    assert.ok(goRegExp('^{$').test('{'));
    assert.ok(goRegExp('^a}$').test('a}'));
    assert.ok(goRegExp('^x{01}$').test('x{01}'), 'a leading zero makes it literal, as in Go');
    assert.ok(goRegExp('^*a').test('a'));
    assert.ok(goRegExp('^a]$').test('a]'));
    assert.ok(goRegExp('^[]a]+$').test(']a'), '] first in a class is literal');
    assert.ok(goRegExp('^[a-]+$').test('a-'));
  });

  it('a translated pattern can be global (replace-all)', () => {
    assert.equal('a1b22'.replace(goRegExp('\\d+', 'g'), '#'), 'a#b#');
  });
});

describe('goRegExp: what RE2 refuses is refused with the construct and a fix', () => {
  const refused: [string, RegExp, RegExp][] = [
    ['(?=a)', /lookahead \(\?=/, /no lookarounds/],
    ['a(?!b)', /lookahead \(\?!/, /no lookarounds/],
    ['(?<=a)b', /lookbehind \(\?<=/, /no lookarounds/],
    ['(?<!a)b', /lookbehind \(\?<!/, /no lookarounds/],
    ['(a)\\1', /backreference \\1/, /repeat the group/],
    ['(a)\\9', /backreference \\9/, /repeat the group/],
    ['(?<n>a)\\k<n>', /backreference \\k<name>/, /repeat the group/],
    ['(?P<n>a)(?P=n)', /\(\?P=name\)/, /no backreferences/],
    ['\\C', /\\C \(any byte\)/, /use \./],
    ['a\\Z', /\\Z is not RE2/, /\\z/],
    ['\\u0041', /\\u is JavaScript syntax/, /\\x\{263A\}/],
    ['[\\b]', /backspace/, /\\x08/],
    ['\\e', /invalid escape \\e/, /RE2 escapes/],
    ['\\x4', /invalid escape \\x4/, /two hex digits/],
    ['\\x{110000}', /invalid escape/, /10FFFF/],
    ['a**', /nested repetition operator \*/, /possessive/],
    ['a++', /nested repetition operator \+/, /possessive/],
    ['a{2}{3}', /nested repetition operator \{3\}/, /one quantifier/],
    ['*a', /missing argument to repetition operator \*/, /after what it repeats/],
    ['a|?', /missing argument/, /after what it repeats/],
    ['(+)', /missing argument/, /after what it repeats/],
    ['a{1001}', /invalid repeat count \{1001\}/, /1000/],
    ['a{3,2}', /invalid repeat count \{3,2\}/, /smaller first/],
    ['(?>a)', /unsupported group \(\?>/, /RE2 groups/],
    ['(?#note)', /unsupported group \(\?#/, /RE2 groups/],
    ['(?x)a', /unsupported group \(\?x/, /\(\?flags\)/],
    ['(?i-)a', /unsupported group/, /RE2 groups/],
    ['(?P<n-1>a)', /invalid group name "n-1"/, /letters, digits and _/],
    ['(?P<1st>a)', /group name "1st" starts with a digit/, /rename/],
    ['(?P<n>a)(?P<n>b)', /duplicate group name "n"/, /own name/],
    ['(?P<name', /without its closing >/, /\(\?P<name>/],
    ['(a', /missing closing \)/, /close every \(/],
    ['a)', /unexpected \)/, /\\\)/],
    ['[a', /missing closing \]/, /\\\[/],
    ['[z-a]', /invalid character class range z-a/, /smaller character first/],
    ['a\\', /trailing backslash/, /\\\\/],
    ['(?i)*', /missing argument/, /after what it repeats/],
  ];
  for (const [pattern, message, hint] of refused) {
    it(JSON.stringify(pattern), () => {
      refuses(() => goRegExp(pattern), message, hint);
      refuses(() => compileTest('Regex', pattern), message, hint);
    });
  }

  it('the message quotes the whole pattern', () => {
    refuses(() => goRegExp('^/api/(?=v1)'), /^invalid regular expression "\^\/api\/\(\?=v1\)": lookahead/);
  });
});

/** A small deterministic PRNG (mulberry32): the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('goRegExp: fuzz', () => {
  it('any string compiles to a RegExp or is refused with a PatternError, never anything else', () => {
    const pieces = [
      ...'()[]{}|*+?.^$\\-:,<>=!#abZ0179PpQEzAxiUmsSdwWkuCLN_ é😀\n',
      '(?',
      '(?i)',
      '(?P<',
      '(?<',
      '[:',
      ':]',
      '[[:alpha:]]',
      '\\p{',
      'Greek}',
      '{2,3}',
      '\\x{',
      '\\Q',
      '\\E',
      '\ud800',
    ];
    const random = prng(20240607);
    const outcomes = { compiled: 0, refused: 0 };
    for (let n = 0; n < 600; n++) {
      let pattern = '';
      const length = Math.floor(random() * 12);
      for (let k = 0; k < length; k++) pattern += pieces[Math.floor(random() * pieces.length)];
      try {
        const re = goRegExp(pattern);
        assert.ok(re instanceof RegExp);
        re.test('abc\nαβ😀');
        outcomes.compiled++;
      } catch (err) {
        assert.ok(err instanceof PatternError, `${JSON.stringify(pattern)} threw ${String(err)}`);
        // The engine's own message would mean the translation wrote something JavaScript rejects.
        assert.doesNotMatch(err.message, /Invalid regular expression:/, JSON.stringify(pattern));
        assert.ok(err.hint.length > 0);
        outcomes.refused++;
      }
    }
    // Both outcomes are exercised, so the generator is not degenerate.
    assert.ok(outcomes.compiled > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
  });

  it('on the syntax both dialects share, the translation matches what JavaScript matches', () => {
    // Shared syntax with the same meaning on ASCII text: literals, classes, \d \w \b, groups, |, quantifiers, ^ $.
    const atoms = ['a', 'b', 'A', '0', '-', ' ', '[ab]', '[^a]', '[a-c0]', '\\d', '\\w', '\\W', '\\b'];
    const random = prng(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const expr = (depth: number): string => {
      let out = '';
      const n = 1 + Math.floor(random() * 3);
      for (let k = 0; k < n; k++) {
        let a =
          depth > 0 && random() < 0.3
            ? `(${expr(depth - 1)}${random() < 0.3 ? `|${expr(depth - 1)}` : ''})`
            : pick(atoms);
        if (a !== '\\b' && random() < 0.4) a += pick(['*', '+', '?', '{1,2}', '{2}', '*?', '+?', '??']);
        out += a;
      }
      return out;
    };
    const alphabet = 'abAB01- \n';
    for (let n = 0; n < 300; n++) {
      const anchored = random() < 0.3;
      const pattern = `${anchored ? '^' : ''}${expr(2)}${anchored ? '$' : ''}`;
      const flags = random() < 0.3 ? 'i' : '';
      const ours = goRegExp(flags ? `(?i)${pattern}` : pattern);
      const theirs = new RegExp(pattern, flags);
      for (let k = 0; k < 5; k++) {
        let input = '';
        const length = Math.floor(random() * 8);
        for (let j = 0; j < length; j++) input += pick([...alphabet]);
        const a = ours.exec(input);
        const b = theirs.exec(input);
        assert.deepEqual(
          a && [a.index, ...a],
          b && [b.index, ...b],
          `${JSON.stringify(pattern)}/${flags} on ${JSON.stringify(input)}`,
        );
      }
    }
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
    assert.equal(compileExpansion('$$-$-${')(m), '$-$-${', 'a malformed $ is kept as text');
    assert.equal(compileExpansion('')(m), '');
  });
});

describe('escapeRegExp', () => {
  it('makes text match itself', () => {
    const text = 'a.b*c+(d)[e]{f}|g^h$i\\j/k?';
    assert.ok(new RegExp(`^${escapeRegExp(text)}$`).test(text));
    assert.ok(new RegExp(`^${escapeRegExp(text)}$`, 'u').test(text));
  });
});
