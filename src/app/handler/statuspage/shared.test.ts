import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdRouteTable } from './shared.ts';

describe('route tables across reloads', () => {
  it('the next holder of an identity gets the same table; the last release drops it', () => {
    const first = holdRouteTable('app/v1/StatusPageHandler/default/a');
    first.table.record('/x', Date.now(), 1, false);
    // A reload: the new object holds the table before the old one is released.
    const second = holdRouteTable('app/v1/StatusPageHandler/default/a');
    assert.equal(second.table, first.table);
    first.release();
    first.release(); // twice is once
    assert.equal(
      holdRouteTable('app/v1/StatusPageHandler/default/a').table,
      first.table,
      'still held by the second',
    );
    assert.notEqual(
      holdRouteTable('app/v1/StatusPageHandler/default/b').table,
      first.table,
      'one table per resource',
    );
  });

  it('after the last release, the next holder starts from zero', () => {
    const only = holdRouteTable('app/v1/StatusPageHandler/default/c');
    only.table.record('/x', Date.now(), 1, false);
    only.release();
    const next = holdRouteTable('app/v1/StatusPageHandler/default/c');
    assert.notEqual(next.table, only.table);
    assert.equal(next.table.requests, 0);
    next.release();
  });
});
