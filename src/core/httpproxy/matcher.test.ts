import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePathMatcher, firstPathMatch, rawHeaderFirst, rawHeaderValue } from './matcher.ts';

const pm = (c: Partial<Parameters<typeof compilePathMatcher>[0]>) =>
  compilePathMatcher({ match: '', matchType: 'Exact', rewrite: '', trimPrefix: '', appendPrefix: '', ...c });

describe('compilePathMatcher', () => {
  it('trims the prefix before matching and appends after, as AILERON documents', () => {
    const m = pm({ match: '/anything', matchType: 'Prefix', trimPrefix: '/get' });
    assert.equal(m('/get/anything/x'), '/anything/x');
    assert.equal(m('/anything/x'), '/anything/x', 'the prefix is only removed when present');
    assert.equal(m('/get/other'), undefined);
    const a = pm({ match: '/', matchType: 'Prefix', appendPrefix: '/anything' });
    assert.equal(a('/x'), '/anything/x');
  });
  it('rewrites with a regex template, dropping text outside the matches', () => {
    const m = pm({ match: '^/api/(.*)$', matchType: 'Regex', rewrite: '/v2/$1' });
    assert.equal(m('/api/users/1'), '/v2/users/1');
    assert.equal(m('/other'), undefined);
    const each = pm({ match: '[0-9]+', matchType: 'Regex', rewrite: '<$0>' });
    assert.equal(each('/a/12/b/3'), '<12><3>', 'one expansion per match, concatenated');
  });
  it('ignores an empty match that touches the previous match, as Go does', () => {
    const m = pm({ match: 'a*', matchType: 'Regex', rewrite: '[$0]' });
    assert.equal(m('baaac'), '[][aaa][]');
  });
  it('keeps the path when a regex without rewrite matches, with prefixes applied', () => {
    const m = pm({ match: '^/v[0-9]/', matchType: 'RegexPOSIX', trimPrefix: '/api', appendPrefix: '/svc' });
    assert.equal(m('/api/v1/x'), '/svc/v1/x');
  });
  it('Exact is the default match type', () => {
    const m = pm({ match: '/a' });
    assert.equal(m('/a'), '/a');
    assert.equal(m('/a/b'), undefined);
  });
});

describe('firstPathMatch', () => {
  it('uses the first matcher that matches', () => {
    const m = firstPathMatch([
      pm({ match: '/a', matchType: 'Prefix', appendPrefix: '/first' }),
      pm({ match: '/', matchType: 'Prefix', appendPrefix: '/second' }),
    ]);
    assert.equal(m('/a/x'), '/first/a/x');
    assert.equal(m('/b'), '/second/b');
  });
});

describe('raw header lookup', () => {
  const raw = ['Host', 'h', 'X-Tag', 'a', 'x-tag', 'b', 'Other', 'c'];
  it('joins every value of a header with ",", case-insensitively', () => {
    assert.equal(rawHeaderValue(raw, 'x-tag'), 'a,b');
    assert.equal(rawHeaderValue(raw, 'missing'), undefined);
    assert.equal(rawHeaderFirst(raw, 'x-tag'), 'a');
  });
});
