import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definitionProblem, pluginAPI } from './pluginapi.ts';

describe('pluginAPI', () => {
  it('collects what the plugin registers while its function runs, and refuses it after', () => {
    const { api, registered, close } = pluginAPI();
    const kind = api.defineResource({
      apiVersion: 'test/v1',
      kind: 'K',
      summary: 's',
      spec: api.Obj({}),
      roles: ['Handler'],
      create: () => ({ handle() {} }),
    });
    api.register(kind);
    assert.deepEqual(registered, [kind]);
    close();
    assert.throws(() => api.register(kind), /called after the plugin function returned/);
    assert.equal(registered.length, 1);
    assert.ok(Object.isFrozen(api));
    assert.equal(api.version, 1);
    assert.equal(api.roles.Middleware.is({ middleware() {} }), true);
  });
});

describe('definitionProblem', () => {
  const { api } = pluginAPI();
  const good = {
    apiVersion: 'acme/v2',
    kind: 'Thing2',
    summary: 's',
    spec: api.Obj({}),
    roles: ['Middleware', 'Tripperware'],
    create: () => ({}),
  };
  it('accepts a kind declared with defineResource', () => {
    assert.equal(definitionProblem(api.defineResource(good)), undefined);
  });
  it('names what is missing or malformed', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /it is null, not a kind/],
      ['x', /it is string/],
      [{ ...good, apiVersion: 'core' }, /apiVersion "core" is not a group\/version/],
      [{ ...good, apiVersion: 'a.b/v1' }, /is not a group\/version/],
      [{ ...good, kind: 'thing' }, /kind "thing" is not a name/],
      [{ ...good, summary: '' }, /acme\/v2\/Thing2 has no summary/],
      [{ ...good, spec: { type: 'string' } }, /has no spec schema/],
      [
        { ...good, roles: ['middleware'] },
        /roles \["middleware"\]: a list of role names such as Middleware, Handler/,
      ],
      [{ ...good, roles: 'Middleware' }, /roles "Middleware"/],
      [{ ...good, roles: [] }, /has no role: nothing could refer to it/],
      [{ ...good, create: undefined }, /has no create function/],
      [{ ...good, validate: 1 }, /validate is not a function/],
      [{ ...good, addKinds: () => [] }, /cannot add kinds itself/],
    ];
    for (const [value, problem] of cases)
      assert.match(definitionProblem(value) ?? '', problem, JSON.stringify(value));
  });
});
