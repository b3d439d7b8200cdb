// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} expressions
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvFileError, ExpansionLimitError, parseEnvFile, SubstitutionError, substitute } from './env.ts';
import { Limits } from './limits.ts';

const fails = (text: string, line: number, message: RegExp) =>
  assert.throws(
    () => parseEnvFile(text, {}),
    (err: unknown) => err instanceof EnvFileError && err.line === line && message.test(err.message),
  );

describe('substitute', () => {
  const env = { HOST: 'example.com', EMPTY: '', PORT: '8080', NAME: 'gateway' };

  it('replaces ${VAR}, and an unset variable by nothing', () => {
    assert.equal(substitute('addr: ${HOST}:${PORT}', env), 'addr: example.com:8080');
    assert.equal(substitute('x: "${NOPE}"', env), 'x: ""');
  });

  it('${VAR:-default} uses the default when unset or empty; ${VAR-default} only when unset', () => {
    assert.equal(substitute('${NOPE:-127.0.0.1:0}', env), '127.0.0.1:0');
    assert.equal(substitute('${EMPTY:-fallback}', env), 'fallback');
    assert.equal(substitute('${EMPTY-fallback}', env), '');
    assert.equal(substitute('${HOST:-fallback}', env), 'example.com');
    assert.equal(substitute('${NOPE:-}', env), '');
  });

  it('${VAR:=word} also sets the variable for later expressions', () => {
    const scope: Record<string, string | undefined> = {};
    assert.equal(substitute('${A:=one} ${A}', scope), 'one one');
    assert.equal(scope.A, 'one');
  });

  it('a numeric default is a default, not a substring offset', () => {
    assert.equal(substitute('${NOPE:-8080}', env), '8080');
    assert.equal(substitute('${NAME:-3}', env), 'gateway');
    assert.equal(substitute('${NOPE:-3:2}', env), '3:2');
  });

  it('${VAR:+word} and ${VAR+word}', () => {
    assert.equal(substitute('${HOST:+yes}|${EMPTY:+yes}|${EMPTY+yes}|${NOPE+yes}', env), 'yes||yes|');
  });

  it('${VAR:?msg} fails with the message and the offset of the expression', () => {
    const text = 'spec:\n  addr: ${LISTEN:?set LISTEN to host:port}\n';
    assert.throws(
      () => substitute(text, env),
      (err: unknown) =>
        err instanceof SubstitutionError &&
        err.message === 'variable LISTEN is not set: set LISTEN to host:port' &&
        err.offset === text.indexOf('${'),
    );
    assert.throws(() => substitute('${EMPTY:?}', env), /variable EMPTY is empty/);
    assert.equal(substitute('${EMPTY?must be set}', env), '', 'without ":" an empty value is fine');
  });

  it('collects every failure when asked to, instead of stopping at the first', () => {
    const errors: SubstitutionError[] = [];
    substitute('${A:?first} ok ${HOST} ${B:?second}', env, errors);
    assert.deepEqual(
      errors.map((e) => [e.message, e.offset]),
      [
        ['variable A is not set: first', 0],
        ['variable B is not set: second', 23],
      ],
    );
  });

  it('substrings, length and case', () => {
    assert.equal(
      substitute('${NAME:0:4}|${NAME:4}|${NAME:3:-1}|${NAME:99}|${#NAME}', env),
      'gate|way|eway||7',
    );
    assert.equal(
      substitute('${NAME@U}|${NAME@u}|${HOST@L}|${NAME@l}', env),
      'GATEWAY|Gateway|example.com|gateway',
    );
  });

  it('expands twice, so a value may refer to another variable', () => {
    assert.equal(substitute('${OUTER}', { OUTER: '${INNER}', INNER: 'deep' }), 'deep');
  });

  it('stops at the first closing brace and leaves what it does not understand as written', () => {
    assert.equal(substitute('${HOST:-a} {b: c}', env), 'example.com {b: c}');
    assert.equal(substitute('${not a var} ${!PREFIX*}', env), '${not a var} ${!PREFIX*}');
    assert.equal(substitute('no expressions here $HOST', env), 'no expressions here $HOST');
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines with export, comments, quotes and escapes', () => {
    const text = [
      '# a comment',
      '',
      'export PLAIN=value',
      'SPACED = padded value   # trailing comment',
      'HASH=a#b',
      'DQ="double # not a comment"',
      "SQ='single ${PLAIN} stays'",
      'NL="line1\\nline2"',
      'ESC=a\\#b',
      'REF=${PLAIN}-ref',
      'EMPTY=',
      'MULTI="first',
      'second"',
      'WIN=crlf\r',
    ].join('\n');
    assert.deepEqual(Object.fromEntries(parseEnvFile(text, {})), {
      PLAIN: 'value',
      SPACED: 'padded value',
      HASH: 'a#b',
      DQ: 'double # not a comment',
      SQ: 'single ${PLAIN} stays',
      NL: 'line1\nline2',
      ESC: 'a#b',
      REF: 'value-ref',
      EMPTY: '',
      MULTI: 'firstsecond',
      WIN: 'crlf',
    });
  });

  it('sees the environment and earlier lines in ${...}, without changing the environment', () => {
    const env = { HOME: '/home/gw' };
    assert.deepEqual(parseEnvFile('DIR=${HOME}/conf\nFILE=${DIR}/a.yaml', env), [
      ['DIR', '/home/gw/conf'],
      ['FILE', '/home/gw/conf/a.yaml'],
    ]);
    assert.deepEqual(env, { HOME: '/home/gw' });
  });

  it('names the line of every kind of mistake', () => {
    fails('A=1\njust words\n', 2, /expected KEY=VALUE, found "just words"/);
    fails('A=1\n=value\n', 2, /expected KEY=VALUE/);
    fails('BAD-NAME=1', 1, /invalid variable name "BAD-NAME"/);
    fails('A=1\nB="never closed\nC=3\n', 2, /unclosed " quote for B/);
    fails('A=1\nB=${MISSING:?needed by B}', 2, /variable MISSING is not set: needed by B/);
  });
});

describe('hostile input', () => {
  it("Object.prototype's names are not variables", () => {
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      assert.equal(substitute(`[\${${name}}]`, {}), '[]', name);
      assert.equal(substitute(`\${${name}:-unset}`, {}), 'unset', name);
      assert.equal(substitute(`\${#${name}}`, {}), '0', name);
      assert.throws(() => substitute(`\${${name}:?needed}`, {}), /variable \S+ is not set: needed/, name);
    }
  });

  it('a variable named __proto__ is an ordinary variable, also when set by ${V=word} or an env file', () => {
    const scope: Record<string, string | undefined> = {};
    assert.equal(substitute('${__proto__=x} ${__proto__}', scope), 'x x');
    assert.equal(Object.getPrototypeOf(scope), Object.prototype);
    assert.deepEqual(parseEnvFile('__proto__=a\nB=${__proto__}b', {}), [
      ['__proto__', 'a'],
      ['B', 'ab'],
    ]);
  });

  it('one expression expands to at most 256 KiB; variables that expand into each other stop there', () => {
    const env = { BIG: 'x'.repeat(Limits.valueSize + 1), OK: 'x'.repeat(Limits.valueSize) };
    assert.equal(substitute('${OK}', env).length, Limits.valueSize);
    assert.throws(
      () => substitute('a: 1\nb: ${BIG}', env),
      (err: unknown) =>
        err instanceof ExpansionLimitError &&
        err.offset === 8 &&
        err.message === '${BIG} expands to 262145 characters, over the limit of 256 KiB per value',
    );
    // A value that holds references is expanded once more: the second pass is bounded by the text's limit,
    // and the failure is located at the expression that brought the references in.
    const doubling = { A: 'x'.repeat(64 * 1024), B: '${A}'.repeat(100) };
    assert.throws(
      () => substitute('a: 1\nv: ${B}', doubling),
      (err: unknown) =>
        err instanceof ExpansionLimitError &&
        err.offset === 8 &&
        err.message === '${A} makes the expanded text longer than the limit of 4 MiB',
    );
  });

  it('the whole text is bounded, and the error is collected with the others when asked to', () => {
    const env = { V: 'x'.repeat(200 * 1024) };
    const text = '${V}'.repeat(30); // 30 x 200 KiB = 6 MiB
    assert.throws(
      () => substitute(text, env),
      (err: unknown) =>
        err instanceof ExpansionLimitError &&
        err.message === '${V} makes the expanded text longer than the limit of 4 MiB' &&
        err.offset === 4 * 20, // the 21st expression is the one that passes 4 MiB
    );
    const errors: SubstitutionError[] = [];
    assert.equal(substitute(`\${MISSING:?set it} ${text}`, env, errors), '');
    assert.deepEqual(
      errors.map((e) => e.message),
      ['variable MISSING is not set: set it', '${V} makes the expanded text longer than the limit of 4 MiB'],
    );
    assert.throws(() => substitute('${V}${V}', env, undefined, 300 * 1024), /limit of 300 KiB/);
  });

  it("a failure in a value's own ${...} is located at the expression that brought the value in", () => {
    const env = { A: 'inner ${MISSING:?needed by A}', B: 'b' };
    const text = 'x: ${B}\ny: ${A}\n';
    assert.throws(
      () => substitute(text, env),
      (err: unknown) =>
        err instanceof SubstitutionError &&
        err.offset === text.indexOf('${A}') &&
        err.message === 'variable MISSING is not set: needed by A',
    );
    const errors: SubstitutionError[] = [];
    substitute(text, env, errors);
    assert.deepEqual(
      errors.map((e) => e.offset),
      [text.indexOf('${A}')],
    );
  });

  it('env files: the file, each value and the sum of the values are bounded, with the line', () => {
    fails(
      `A=${'x'.repeat(Limits.envFileSize)}`,
      1,
      /the env file has \d+ characters, over the limit of 1 MiB/,
    );
    fails(
      `A=1\nB=${'x'.repeat(Limits.valueSize + 1)}`,
      2,
      /the value of B has 262145 characters, over the limit of 256 KiB per value/,
    );
    fails(
      `A=1\n${'K'.repeat(Limits.keyLength + 1)}=1`,
      2,
      /variable name of 1025 characters, over the limit of 1024/,
    );
    // Each line doubles the last: 64 KiB, 128 KiB, 256 KiB, then the fourth passes the limit.
    const doubling = [`A0=${'x'.repeat(64 * 1024)}`, 'A1=${A0}${A0}', 'A2=${A1}${A1}', 'A3=${A2}${A2}'];
    fails(doubling.join('\n'), 4, /^\$\{A2\} makes the expanded text longer than the limit of 256 KiB$/);
    // Many lines that each repeat a large value: the sum is bounded.
    const many = [`A=${'x'.repeat(200 * 1024)}`, ...Array.from({ length: 10 }, (_, i) => `B${i}=\${A}`)];
    fails(
      many.join('\n'),
      6,
      /the values set so far add up to \d+ characters, over the limit of 1 MiB per env file/,
    );
  });
});

describe('substitute: syntax checks of the text a user wrote (when problems are collected)', () => {
  const check = (text: string, env: Record<string, string | undefined> = {}) => {
    const errors: SubstitutionError[] = [];
    substitute(text, env, errors);
    return errors.map((e) => [e.message, e.offset]);
  };

  it('a ${ without } on its line is reported at the ${, even when a } follows on a later line', () => {
    assert.deepEqual(check('addr: "${GW_ADDR"\n'), [['"${" is not closed: "${GW_ADDR\\""', 7]]);
    assert.deepEqual(check('{"addr": "${A",\n "b": 1\n}'), [['"${" is not closed: "${A\\","', 10]]);
    assert.deepEqual(check('x: ${'), [['"${" is not closed: "${"', 3]]);
  });

  it('an expression that names no variable: empty, or a name starting with a digit', () => {
    assert.deepEqual(check('a: ${1BAD}\nb: ${}\nc: ${2:-x}\nd: ${#3}'), [
      ['"${1BAD}" does not name a variable', 3],
      ['"${}" does not name a variable', 14],
      ['"${2:-x}" does not name a variable', 21],
      ['"${#3}" does not name a variable', 32],
    ]);
  });

  it('what was accepted before still is: names, defaults, braces inside, unknown forms left as written', () => {
    assert.deepEqual(check('${A} ${_B:-1} ${C:-{}} ${not a var} ${!P*} $1 {x}', { A: 'a' }), []);
  });

  it('a failure inside a variable value is reported at the expression that brought it in', () => {
    assert.deepEqual(check('a: ok\nb: ${OUTER}\n', { OUTER: 'x ${INNER:?set INNER}' }), [
      ['variable INNER is not set: set INNER (in the value of ${OUTER})', 9],
    ]);
  });

  it('a text full of them: the first 20, then one line saying more follow (and one scan of the text)', () => {
    const errors = check('${'.repeat(100_000));
    assert.equal(errors.length, 21);
    assert.deepEqual(errors.at(-1), ['more "${" problems follow', 40]);
  });

  it('env files and the second pass are not checked: a value may hold a literal "${"', () => {
    assert.deepEqual(parseEnvFile('P=pa${ss\n', {}), [['P', 'pa${ss']]);
    assert.deepEqual(check('${P}', { P: 'pa${ss' }), []);
  });
});

describe('substitute: fuzz', () => {
  /** mulberry32: the cases are the same on every run. */
  function prng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('any text: problems are SubstitutionErrors at a "${" of the text, or the text expands; nothing else', () => {
    const pieces = [
      '${',
      '}',
      '{',
      '$',
      'A',
      '1',
      '_',
      ':-',
      ':?',
      '#',
      '@U',
      ':2',
      '\n',
      ' ',
      'x',
      '"',
      '!',
    ];
    const random = prng(20261206);
    const env = { A: 'v${A', B: '${C:?c}' };
    for (let n = 0; n < 2000; n++) {
      let text = '';
      const length = Math.floor(random() * 16);
      for (let k = 0; k < length; k++) text += pieces[Math.floor(random() * pieces.length)];
      const errors: SubstitutionError[] = [];
      const out = substitute(text, { ...env }, errors);
      assert.equal(typeof out, 'string');
      for (const e of errors) {
        assert.ok(e instanceof SubstitutionError, text);
        assert.equal(text.slice(e.offset, e.offset + 2), '${', `${JSON.stringify(text)}: ${e.message}`);
        assert.ok(e.hint.length > 0);
      }
    }
  });
});
