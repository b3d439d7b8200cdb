/**
 * The metric names a PromQL expression reads, for checking a dashboard against a real scrape: every identifier
 * that is not a function (followed by `(`), an aggregation keyword or modifier, a label (inside `{...}`, or in a
 * `by`/`without`/`on`/`ignoring`/`group_*` list), a duration (`[...]`), a string, a number or a Grafana
 * variable (`$name`, `${name}`).
 */
const Keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atop',
  'start',
  'end',
  'inf',
  'nan',
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{[^}]*\}|\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][\w:]*(\s*\()?/g)) {
    if (m[1] !== undefined) continue; // a function call
    const id = m[0];
    if (Keywords.has(id.toLowerCase())) continue;
    // Part of a number (1e3, 0x1f) or a duration (5m) is not a name.
    const before = stripped[m.index - 1];
    if (before !== undefined && /[\d.]/.test(before)) continue;
    names.add(id);
  }
  return [...names];
}

/** Every PromQL expression of a Grafana dashboard: panel targets (rows included), variables, annotations. */
export function dashboardExpressions(dashboard: unknown): string[] {
  const found: string[] = [];
  const walk = (v: unknown, key: string) => {
    if (Array.isArray(v)) for (const item of v) walk(item, key);
    else if (typeof v === 'object' && v !== null) for (const [k, child] of Object.entries(v)) walk(child, k);
    else if (typeof v === 'string' && (key === 'expr' || key === 'definition')) found.push(v);
  };
  walk(dashboard, '');
  // A variable's label_values(metric, label): the metric is an expression, the label is not.
  return found.map((e) => e.replace(/label_values\(\s*([^,)]*)(?:,[^)]*)?\)/g, '$1'));
}
