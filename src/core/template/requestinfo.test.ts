import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalHeaderKey, queryOf } from './requestinfo.ts';

describe('request info', () => {
  it("canonicalises header names as Go's CanonicalMIMEHeaderKey", () => {
    assert.equal(canonicalHeaderKey('user-agent'), 'User-Agent');
    assert.equal(canonicalHeaderKey('X-FORWARDED-FOR'), 'X-Forwarded-For');
    assert.equal(canonicalHeaderKey('www-authenticate'), 'Www-Authenticate');
    assert.equal(canonicalHeaderKey('bad name'), 'bad name', 'a name with a non-token byte stays as it is');
  });

  it("parses the query as Go's url.ParseQuery, dropping what it refuses", () => {
    assert.deepEqual(
      { ...queryOf('a=1&b=x+y&a=%3Cz%3E&empty&=v&bad=%zz&semi=1;2') },
      {
        a: ['1', '<z>'],
        b: ['x y'],
        empty: [''],
        '': ['v'],
      },
    );
    assert.deepEqual({ ...queryOf('') }, {});
    assert.deepEqual({ ...queryOf('__proto__=1') }, { ['__proto__']: ['1'] });
  });
});
