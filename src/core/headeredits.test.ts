/**
 * applyHeaderEdits (the upstream header edits the proxy applies) against the plain reading of the contract, each
 * edit applied to the whole array in turn, on seeded random headers and edits (fuzz): the same values for every
 * name, in the same order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyHeaderEdits, UpstreamHeaders } from './context.ts';

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The contract, one edit at a time over the whole array. */
function reference(headers: string[], ops: readonly string[]): string[] {
  let out = [...headers];
  for (let i = 0; i < ops.length; i += 3) {
    const [op, name, value] = [ops[i]!, ops[i + 1]!, ops[i + 2]!];
    if (op !== 'a') {
      const kept: string[] = [];
      for (let r = 0; r < out.length; r += 2)
        if (out[r]!.toLowerCase() !== name) kept.push(out[r]!, out[r + 1]!);
      out = kept;
    }
    if (op !== 'r') out.push(name, value);
  }
  return out;
}

/** name (lower case) -> its values in order. */
function byName(headers: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!.toLowerCase();
    m.set(n, [...(m.get(n) ?? []), headers[i + 1]!]);
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('applyHeaderEdits', () => {
  it('drops set and removed names, keeps the client headers of other names, appends in order', () => {
    const edits = new UpstreamHeaders()
      .set('X-User', 'alice')
      .append('x-roles', 'a')
      .append('x-roles', 'b')
      .remove('cookie');
    const headers = ['X-User', 'mallory', 'Cookie', 'a=1', 'Accept', '*/*', 'x-roles', 'client'];
    applyHeaderEdits(headers, edits);
    assert.deepEqual(headers, [
      'Accept',
      '*/*',
      'x-roles',
      'client',
      'x-user',
      'alice',
      'x-roles',
      'a',
      'x-roles',
      'b',
    ]);
  });

  it('gives what applying each edit in turn gives, on 5,000 seeded cases (fuzz)', () => {
    const rand = prng(0xed17);
    const names = [
      'x-a',
      'X-A',
      'x-bb',
      'X-Bb',
      'user-agent',
      'User-Agent',
      'x-long-name-of-more-than-31-chars-x',
      'c',
    ];
    for (let n = 0; n < 5000; n++) {
      const headers: string[] = [];
      for (let i = Math.floor(rand() * 8); i > 0; i--)
        headers.push(names[Math.floor(rand() * names.length)]!, `v${i}`);
      const edits = new UpstreamHeaders();
      for (let i = Math.floor(rand() * 7); i > 0; i--) {
        const name = names[Math.floor(rand() * names.length)]!;
        const op = rand();
        if (op < 0.4) edits.set(name, `s${i}`);
        else if (op < 0.75) edits.append(name, `a${i}`);
        else edits.remove(name);
      }
      const expected = reference(headers, edits.ops);
      applyHeaderEdits(headers, edits);
      assert.deepEqual(byName(headers), byName(expected), JSON.stringify({ headers, ops: edits.ops }));
    }
  });
});
