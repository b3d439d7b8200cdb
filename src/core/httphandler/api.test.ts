import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefixedPattern } from './api.ts';

describe('core/v1 HTTPHandler patterns', () => {
  it('joins the prefix and the pattern, cleaned, keeping a trailing slash and a method', () => {
    assert.equal(prefixedPattern('api', '/items/'), '/api/items/');
    assert.equal(prefixedPattern('/api/', '/exact'), '/api/exact');
    assert.equal(prefixedPattern('', '/'), '/');
    assert.equal(prefixedPattern('a//b/./c/..', 'd'), '/a/b/d');
    assert.equal(prefixedPattern('v1', 'GET /users/{id}'), 'GET /v1/users/{id}');
    assert.equal(prefixedPattern('..', '/x'), '/x', 'nothing above the root');
  });
});
