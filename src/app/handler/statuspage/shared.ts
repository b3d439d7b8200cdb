/**
 * The route numbers of a StatusPageHandler outlive a reload: the new configuration's object (same resource
 * identity) takes over the old one's table, so the page does not fall to zero at each reload. The new object is
 * created before the old one is released, so a count of holders per identity says when to drop a table: when
 * the last holder is closed (shutdown, or a reload that removes the resource).
 */
import { RouteTable } from './stats.ts';

const tables = new Map<string, { table: RouteTable; holders: number }>();

/** The table of resource `id`, and the function that lets go of it (call it once, at close). */
export function holdRouteTable(id: string): { table: RouteTable; release: () => void } {
  let entry = tables.get(id);
  if (entry === undefined) {
    entry = { table: new RouteTable(), holders: 0 };
    tables.set(id, entry);
  }
  entry.holders++;
  const held = entry;
  let released = false;
  return {
    table: held.table,
    release: () => {
      if (released) return;
      released = true;
      if (--held.holders === 0 && tables.get(id) === held) tables.delete(id);
    },
  };
}
