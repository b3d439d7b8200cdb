import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absoluteForm, checkHost, checkOriginForm, decodePath, pathAmbiguity } from './target.ts';

describe('checkOriginForm', () => {
  it('accepts RFC 3986 paths and queries, and what browsers send unescaped', () => {
    for (const t of [
      '/',
      '/a/b?c=d&e',
      "/a!$&'()*+,;=:@b",
      '/a%20b%2F',
      '/a[1]|^',
      '/?q={x}|`y`\\',
      '/a\\b',
    ]) {
      assert.equal(checkOriginForm(t), undefined, t);
    }
  });
  it('names what is wrong', () => {
    assert.equal(checkOriginForm('/a%zz'), 'a "%" that is not followed by two hex digits');
    assert.equal(checkOriginForm('/a%4'), 'a "%" that is not followed by two hex digits');
    assert.equal(checkOriginForm('/a"b'), 'the character """ in the path');
    assert.equal(checkOriginForm('/a?b c'), 'the character 0x20 in the query');
    assert.equal(checkOriginForm('/a#f'), 'the character "#" in the path');
    assert.equal(checkOriginForm('/caf\u00e9'), 'the character 0xe9 in the path');
    assert.equal(checkOriginForm('/a{b}'), 'the character "{" in the path');
  });
});

describe('checkHost', () => {
  it('accepts names, IPv4, IPv6 literals, ports and the empty host', () => {
    for (const h of [
      '',
      'example.com',
      'EXAMPLE.com:8080',
      '127.0.0.1',
      '[::1]',
      '[::ffff:1.2.3.4]:443',
      'a_b-c~',
    ]) {
      assert.equal(checkHost(h), undefined, h);
    }
  });
  it('refuses userinfo, slashes, escapes, spaces, unbalanced brackets and bad ports', () => {
    for (const h of [
      'u@h',
      'h/x',
      'a%20b',
      'a b',
      '[::1',
      '[::1]x',
      '[g::1]',
      'h:8o',
      'h:1:2',
      'caf\u00e9',
    ]) {
      assert.notEqual(checkHost(h), undefined, h);
    }
  });
});

describe('absoluteForm', () => {
  it('splits authority and path', () => {
    assert.deepEqual(absoluteForm('http://a.example:81/x?y'), { host: 'a.example:81', target: '/x?y' });
    assert.deepEqual(absoluteForm('HTTPS://a.example'), { host: 'a.example', target: '/' });
    assert.deepEqual(absoluteForm('http://a.example?q'), { host: 'a.example', target: '/?q' });
    assert.equal(absoluteForm('/x'), undefined);
    assert.equal(absoluteForm('relative'), undefined);
  });
  it('refuses other schemes, userinfo and a missing host', () => {
    assert.equal(typeof absoluteForm('ftp://a/x'), 'string');
    assert.equal(typeof absoluteForm('http://u@a/x'), 'string');
    assert.equal(typeof absoluteForm('http:///x'), 'string');
  });
});

describe('pathAmbiguity and decodePath', () => {
  it('finds encoded slashes, backslashes and encoded dot segments, nothing else', () => {
    assert.equal(pathAmbiguity('/a%2Fb'), 'an encoded slash or a backslash');
    assert.equal(pathAmbiguity('/a%5cb'), 'an encoded slash or a backslash');
    assert.equal(pathAmbiguity('/a\\b'), 'an encoded slash or a backslash');
    assert.equal(pathAmbiguity('/a/%2E%2e/b'), 'an encoded dot segment');
    assert.equal(pathAmbiguity('/a/.%2e'), 'an encoded dot segment');
    assert.equal(pathAmbiguity('/a/%2e'), 'an encoded dot segment');
    for (const p of ['/', '/a/b', '/file%2ejson', '/a%20b', '/a/../b', '/%2'])
      assert.equal(pathAmbiguity(p), undefined, p);
  });
  it('decodes separators and dots, then removes dot segments', () => {
    assert.equal(decodePath('/a%2Fb'), '/a/b');
    assert.equal(decodePath('/a\\b%5C'), '/a/b/');
    assert.equal(decodePath('/p/%2e%2e/%2E%2E/../admin'), '/admin');
    assert.equal(decodePath('/p/%2e/x/'), '/p/x/');
    assert.equal(decodePath('/p/%2e%2e'), '/');
    assert.equal(decodePath('//a///b'), '/a/b');
    assert.equal(decodePath('/a%20b/%2e'), '/a%20b/');
  });
});

describe('fuzz (seeded): hostile targets and hosts end in an answer, never an exception', () => {
  // A small deterministic PRNG (mulberry32): the same cases every run.
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pieces = [
    '/',
    '%',
    '%2',
    '%2f',
    '%2E',
    '%5c',
    '\\',
    '.',
    '..',
    '[',
    ']',
    ':',
    '@',
    '?',
    '#',
    'a',
    'Z',
    '9',
    ' ',
    '\t',
    '\u00ff',
    '\u0000',
    'http://',
    '{',
    '"',
    '~',
  ];
  it('5,000 random strings through every check; decodePath always yields a clean absolute path', () => {
    const random = rng(0x5eed);
    for (let n = 0; n < 5000; n++) {
      let s = '';
      const len = Math.floor(random() * 24);
      for (let i = 0; i < len; i++) s += pieces[Math.floor(random() * pieces.length)];
      const target = random() < 0.7 ? `/${s}` : s;
      const r1 = checkOriginForm(target);
      assert.ok(r1 === undefined || typeof r1 === 'string');
      const r2 = checkHost(s);
      assert.ok(r2 === undefined || typeof r2 === 'string');
      const r3 = absoluteForm(target);
      assert.ok(r3 === undefined || typeof r3 === 'string' || r3.target.startsWith('/'));
      if (target.startsWith('/') && pathAmbiguity(target) !== undefined) {
        const d = decodePath(target);
        assert.ok(d.startsWith('/'), d);
        assert.equal(pathAmbiguity(d.replace(/%2[eE]/g, '')), undefined, `${target} -> ${d}`);
        assert.ok(!/(^|\/)\.\.?(\/|$)/.test(d), `${target} -> ${d} still has dot segments`);
      }
    }
  });
});
