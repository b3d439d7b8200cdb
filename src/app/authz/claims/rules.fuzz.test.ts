/**
 * Seeded, bounded fuzz of what ClaimsAuthzMiddleware reads from outside: request targets (hostile spellings of
 * paths) and claims (whatever an authentication put there). A rule for a path prefix applies to a target only when
 * the target's path, fully decoded and with dot segments resolved, is under that prefix too: no spelling of a path
 * reaches another path's rule. Claims never throw, and prototype names are never claims.
 * Replay a failure with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { random } from '../../../../test/helpers/config-fuzz.ts';
import { compileMatcher } from '../../../core/common/matcherspec.ts';
import { pathOfTarget } from '../requestpath.ts';
import { type CompiledRule, ruleFor, unmet } from './rules.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const Runs = 4000;
const Pieces = [
  '/',
  'public',
  'admin',
  '..',
  '.',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%',
  '%zz',
  '%C3%A9',
  '?',
  'a',
  '//',
  ';',
  '#',
  '%00',
  '%252e',
];

const rules: CompiledRule[] = ['/public/', '/admin/'].map((prefix, index) => ({
  index,
  path: compileMatcher({ patterns: [prefix], matchType: 'Prefix' }),
  methods: new Set(),
  anonymous: prefix === '/public/',
  requirements: [],
}));

function cleaned(target: string): string {
  const raw = target.split('?')[0]!;
  let decoded = raw;
  for (let i = 0; i < 3 && decoded.includes('%'); i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      break;
    }
  }
  return posix.normalize(decoded.replaceAll('\\', '/'));
}

describe('ClaimsAuthzMiddleware paths (fuzz)', () => {
  it('a prefix rule applies only to targets whose cleaned path is under the prefix', () => {
    const r = random(seed);
    let matched = 0;
    for (let i = 0; i < Runs; i++) {
      const target = `${r.pick(['/public/', '/admin/', '/'])}${Array.from({ length: r.int(8) }, () => r.pick(Pieces)).join('')}`;
      const path = pathOfTarget(target);
      const rule = ruleFor(rules, 'GET', path);
      if (rule === undefined) continue;
      matched++;
      const prefix = rule.index === 0 ? '/public/' : '/admin/';
      assert.ok(
        cleaned(target).startsWith(prefix) || cleaned(target) === prefix.slice(0, -1),
        `seed ${seed} run ${i}: ${target} -> ${path} matched ${prefix}, cleaned ${cleaned(target)}`,
      );
    }
    assert.ok(matched > 50, 'the generator reaches the rules');
  });
});

describe('ClaimsAuthzMiddleware claims (fuzz)', () => {
  it('any claims value is judged without throwing; prototype names are not claims', () => {
    const r = random(seed + 1);
    const values = [
      null,
      undefined,
      1,
      true,
      'read write',
      ['read'],
      [1, null, {}],
      {},
      { scope: 'read' },
      new Map([['scope', 'read']]),
    ];
    const names = ['scope', 'attrs', 'roles', '__proto__', 'constructor', 'toString', 'realm_access'];
    const rule: CompiledRule = {
      index: 0,
      path: undefined,
      methods: new Set(),
      anonymous: false,
      requirements: [
        {
          name: 'scopes',
          paths: [['scope'], ['attrs', 'scope']],
          splitSpaces: true,
          anyOf: ['read'],
          allOf: [],
        },
        { name: 'c', paths: [['constructor', 'name']], splitSpaces: false, anyOf: [], allOf: [] },
      ],
    };
    for (let i = 0; i < Runs; i++) {
      const claims: Record<string, unknown> = {};
      for (let k = r.int(4); k > 0; k--) claims[r.pick(names)] = r.pick(values);
      const failed = unmet(rule, r.int(10) === 0 ? r.pick(values) : claims);
      assert.ok(failed !== undefined, `seed ${seed + 1} run ${i}: constructor.name is never a claim`);
    }
  });
});
