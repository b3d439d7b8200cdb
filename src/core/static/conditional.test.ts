import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePreconditions, ifRangeAllows } from './conditional.ts';
import { acceptedCodings } from './encoding.ts';
import { contentTypeOf } from './mime.ts';

const v = { etag: '"5-abc"', mtimeSeconds: 1_000_000 };
const at = (s: number) => new Date(s * 1000).toUTCString();

describe('evaluatePreconditions', () => {
  it('follows RFC 9110 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since', () => {
    assert.equal(evaluatePreconditions('GET', {}, v), 'ok');
    assert.equal(evaluatePreconditions('GET', { 'if-match': '"x"' }, v), 412);
    assert.equal(evaluatePreconditions('GET', { 'if-match': 'W/"5-abc"' }, v), 412); // strong comparison
    assert.equal(evaluatePreconditions('GET', { 'if-match': '"x", "5-abc"' }, v), 'ok');
    assert.equal(evaluatePreconditions('GET', { 'if-match': '*' }, v), 'ok');
    assert.equal(evaluatePreconditions('GET', { 'if-unmodified-since': at(999_999) }, v), 412);
    assert.equal(evaluatePreconditions('GET', { 'if-unmodified-since': at(1_000_000) }, v), 'ok');
    assert.equal(evaluatePreconditions('GET', { 'if-none-match': 'W/"5-abc"' }, v), 304);
    assert.equal(evaluatePreconditions('HEAD', { 'if-none-match': '*' }, v), 304);
    assert.equal(evaluatePreconditions('GET', { 'if-modified-since': at(1_000_000) }, v), 304);
    assert.equal(evaluatePreconditions('GET', { 'if-modified-since': at(999_999) }, v), 'ok');
    assert.equal(evaluatePreconditions('GET', { 'if-modified-since': 'garbage' }, v), 'ok');
    assert.equal(
      evaluatePreconditions('GET', { 'if-none-match': '"x"', 'if-modified-since': at(1_000_000) }, v),
      'ok',
    );
  });

  it('If-Range: the same strong ETag or the exact date allows the range', () => {
    assert.equal(ifRangeAllows({}, v), true);
    assert.equal(ifRangeAllows({ 'if-range': '"5-abc"' }, v), true);
    assert.equal(ifRangeAllows({ 'if-range': 'W/"5-abc"' }, v), false);
    assert.equal(ifRangeAllows({ 'if-range': at(1_000_000) }, v), true);
    assert.equal(ifRangeAllows({ 'if-range': at(1_000_001) }, v), false);
  });
});

describe('acceptedCodings', () => {
  const all = [
    { coding: 'br', suffix: '.br' },
    { coding: 'zstd', suffix: '.zst' },
    { coding: 'gzip', suffix: '.gz' },
  ];
  const names = (ae: string | undefined) => acceptedCodings(ae, all).map((c) => c.coding);
  it('honours q-values, q=0 and *, in the configured order on ties', () => {
    assert.deepEqual(names(undefined), []);
    assert.deepEqual(names('gzip, br'), ['br', 'gzip']);
    assert.deepEqual(names('gzip;q=1, br;q=0.5'), ['gzip', 'br']);
    assert.deepEqual(names('br;q=0, *'), ['zstd', 'gzip']);
    assert.deepEqual(names('identity'), []);
    assert.deepEqual(names('x-gzip'), ['gzip']);
  });
});

describe('contentTypeOf', () => {
  it('maps extensions case-insensitively, unknown ones to octet-stream', () => {
    assert.equal(contentTypeOf('a.HTML'), 'text/html; charset=utf-8');
    assert.equal(contentTypeOf('x.woff2'), 'font/woff2');
    assert.equal(contentTypeOf('README'), 'application/octet-stream');
    assert.equal(contentTypeOf('x.constructor'), 'application/octet-stream');
    assert.equal(contentTypeOf('trailing.'), 'application/octet-stream');
  });
});
