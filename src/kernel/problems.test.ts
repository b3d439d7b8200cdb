import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, closest, describeValue, editDistance, formatProblem } from './problems.ts';

describe('formatProblem', () => {
  it('puts file:line:col and the field first, then expected, found, resource and fix on their own lines', () => {
    assert.equal(
      formatProblem({
        position: { file: 'conf/gw.yaml', line: 12, col: 5 },
        field: 'spec.addr',
        resource: 'core/v1/HTTPServer/default/web',
        message: 'wrong type',
        expected: 'a string',
        found: 'number 8080',
        hint: 'write it in quotes: "8080"',
      }),
      [
        'conf/gw.yaml:12:5: spec.addr: wrong type',
        '    expected: a string',
        '    found:    number 8080',
        '    in:       core/v1/HTTPServer/default/web',
        '    fix:      write it in quotes: "8080"',
      ].join('\n'),
    );
  });

  it('has no location prefix for a problem that has no place in a file', () => {
    assert.equal(
      formatProblem({
        position: undefined,
        message: 'no such file or directory: x.yaml',
        hint: 'check the path',
      }),
      'no such file or directory: x.yaml\n    fix:      check the path',
    );
    assert.equal(
      formatProblem({ position: undefined, field: 'spec.a', message: 'm' }),
      '<unknown location>: spec.a: m',
    );
  });

  it('ConfigError counts and lists every problem', () => {
    const err = new ConfigError([
      { position: { file: 'a.yaml', line: 1, col: 1 }, message: 'one' },
      { position: { file: 'b.yaml', line: 2, col: 3 }, message: 'two' },
    ]);
    assert.equal(err.message, '2 configuration problems:\na.yaml:1:1: one\nb.yaml:2:3: two');
    assert.equal(
      new ConfigError([{ position: undefined, message: 'x' }]).message,
      '1 configuration problem:\nx',
    );
  });
});

describe('did-you-mean', () => {
  it('editDistance', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  it('closest suggests near names (case-insensitively) and nothing for far ones', () => {
    assert.equal(closest('shutdownTimeot', ['addr', 'shutdownTimeout']), 'shutdownTimeout');
    assert.equal(closest('ADDR', ['addr', 'shutdownTimeout']), 'addr');
    assert.equal(
      closest('core/v1/HTTPServr', ['core/v1/HTTPServer', 'app/v1/EchoHandler']),
      'core/v1/HTTPServer',
    );
    assert.equal(closest('completely-different', ['addr']), undefined);
    assert.equal(closest('x', []), undefined);
  });

  it('describeValue shows values as written, shortened', () => {
    assert.equal(describeValue(undefined), 'nothing');
    assert.equal(describeValue(null), 'null');
    assert.equal(describeValue('a'), '"a"');
    assert.equal(describeValue(3), '3');
    assert.equal(describeValue([1, 2]), 'a list (2 items)');
    assert.equal(describeValue({}), 'a mapping');
    assert.equal(describeValue('x'.repeat(100)).length, 60);
  });
});
