import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePath, encodePath } from './urlpath.ts';

describe('decodePath', () => {
  it('returns a path without escapes as it is', () => {
    assert.equal(decodePath('/a/b'), '/a/b');
  });
  it('decodes escapes for matching, UTF-8 included', () => {
    assert.equal(decodePath('/caf%C3%A9/a%20b'), '/café/a b');
  });
  it('keeps %2F, %5C and %25 encoded so they stay inside their segment', () => {
    assert.equal(decodePath('/a%2fb%5Cc%25d%41'), '/a%2Fb%5Cc%25dA');
  });
  it('refuses encoded dot segments', () => {
    assert.equal(decodePath('/api/%2e%2e/admin'), undefined);
    assert.equal(decodePath('/api/.%2E'), undefined);
    assert.equal(decodePath('/api/%2e'), undefined);
    assert.equal(decodePath('/api/%2e%2ex'), '/api/..x', 'dots inside a name are fine');
  });
  it('keeps escapes that are not UTF-8', () => {
    assert.equal(decodePath('/a%FFb'), '/a%FFb');
  });
});

describe('encodePath', () => {
  it('adds the leading slash and leaves a clean path alone', () => {
    assert.equal(encodePath(''), '/');
    assert.equal(encodePath('x/y'), '/x/y');
    assert.equal(encodePath("/a-b_c.d~e!$&'()*+,;=:@/%2F"), "/a-b_c.d~e!$&'()*+,;=:@/%2F");
  });
  it('encodes what a path cannot carry, by code point', () => {
    assert.equal(encodePath('/a b?c#d'), '/a%20b%3Fc%23d');
    assert.equal(encodePath('/café/😀'), '/caf%C3%A9/%F0%9F%98%80');
    assert.equal(encodePath('/\ud800'), '/%EF%BF%BD');
  });
});
