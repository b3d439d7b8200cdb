/**
 * Seeded, bounded fuzz of what OPAAuthzMiddleware reads from outside: an OPA server's answers (decodeDataResponse:
 * a decision or an OPAServerError, never anything else, and an allow only for a JSON object whose `result` is
 * exactly true), bundle archives (readTar: files or a TarError), and hostile request targets (decodePath, queryOf:
 * never throw; canonicalJSON: the same text whatever the key order). Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { tarOf } from '../../../../test/helpers/tar.ts';
import { canonicalJSON, decodePath, queryOf } from './input.ts';
import { decodeDataResponse, OPAServerError } from './opaserver.ts';
import { readTar, TarError } from './tar.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Runs = 3000;

const BodyPieces = [
  '{',
  '}',
  '"result"',
  ':',
  'true',
  'false',
  'null',
  '"true"',
  '[true]',
  ',',
  '"decision_id":"x"',
  '{"result":true}',
  '\u0000',
  ' ',
  '1e999',
  '"\\u0000"',
  '__proto__',
  '"__proto__":{"result":true}',
];

describe('OPA answers (fuzz)', () => {
  it('decode to a decision or an OPAServerError; only {"result": true} allows', () => {
    const r = random(seed);
    let allowed = 0;
    for (let i = 0; i < Runs; i++) {
      const body = Array.from({ length: r.int(8) }, () => r.pick(BodyPieces)).join('');
      const status = r.pick([200, 200, 200, 204, 400, 404, 500, 503]);
      try {
        const decision = decodeDataResponse(status, body);
        assert.equal(status, 200, `seed ${seed} run ${i}: a decision from status ${status}`);
        const parsed = JSON.parse(body) as Record<string, unknown>;
        assert.equal(
          decision,
          Object.hasOwn(parsed, 'result') && parsed.result === true,
          `run ${i}: ${body}`,
        );
        if (decision) allowed++;
      } catch (err) {
        assert.ok(
          err instanceof OPAServerError,
          `seed ${seed} run ${i}: ${String(err)} for ${JSON.stringify(body)}`,
        );
      }
    }
    assert.ok(allowed > 0, 'the generator reaches allowing answers');
    // An inherited `result` is not the answer's.
    assert.equal(decodeDataResponse(200, '{"__proto__":{"result":true}}'), false);
  });
});

describe('bundle archives (fuzz)', () => {
  it('read as files or refused with a TarError, whatever the bytes', () => {
    const r = random(seed + 1);
    const good = tarOf({ '/policy.wasm': 'wasm', '/data.json': '{}', [`/${'d/'.repeat(60)}long.txt`]: 'x' });
    assert.deepEqual(
      [...readTar(good, () => true).keys()],
      ['policy.wasm', 'data.json', `${'d/'.repeat(60)}long.txt`],
    );
    for (let i = 0; i < Runs / 3; i++) {
      const bytes = Buffer.from(good);
      for (let k = r.int(12) + 1; k > 0; k--) bytes[r.int(bytes.length)] = r.int(256);
      const cut = r.int(4) === 0 ? bytes.subarray(0, r.int(bytes.length)) : bytes;
      try {
        readTar(cut, () => true);
      } catch (err) {
        assert.ok(err instanceof TarError, `seed ${seed + 1} run ${i}: ${String(err)}`);
      }
    }
  });
});

const TargetPieces = [
  '%',
  '%2',
  '%zz',
  '%2F',
  '%C3%A9',
  '%C3',
  '+',
  '&',
  '=',
  '?',
  '/',
  '..',
  'a',
  '\u00e9',
  '%00',
  ';',
];

describe('hostile request targets (fuzz)', () => {
  it('decodePath and queryOf never throw; query keys and values are strings', () => {
    const r = random(seed + 2);
    for (let i = 0; i < Runs; i++) {
      const text = Array.from({ length: r.int(12) }, () => r.pick(TargetPieces)).join('');
      assert.equal(typeof decodePath(text), 'string');
      const q = queryOf(text);
      for (const [k, v] of Object.entries(q)) {
        assert.equal(typeof k, 'string');
        assert.ok(Array.isArray(v) && v.every((s) => typeof s === 'string'), `seed ${seed + 2} run ${i}`);
      }
    }
    // A key named __proto__ is a key, not a prototype.
    assert.deepEqual(Object.keys(queryOf('__proto__=1&constructor=2')), ['__proto__', 'constructor']);
  });

  it('canonicalJSON gives one text whatever the key order, and it parses back to the same value', () => {
    const r = random(seed + 3);
    for (let i = 0; i < Runs / 3; i++) {
      const keys = Array.from({ length: r.int(6) + 1 }, () =>
        r.pick(['a', 'b', 'é', '__proto__', 'Z', '"', '']),
      );
      const entries = keys.map((k, j) => [k, r.int(2) ? j : { [k]: [j, null, 'x'] }] as const);
      const one = Object.fromEntries(entries);
      const other = Object.fromEntries(
        [...entries]
          .reverse()
          .reverse()
          .sort(() => r.next() - 0.5),
      );
      // Later duplicates win in fromEntries: compare on the same set of entries only when keys are distinct.
      if (new Set(keys).size !== keys.length) continue;
      assert.equal(canonicalJSON(one), canonicalJSON(other), `seed ${seed + 3} run ${i}`);
      assert.deepEqual(JSON.parse(canonicalJSON(one)), JSON.parse(JSON.stringify(one)));
    }
  });
});
