/**
 * `node bench/cpu-profile-top.ts FILE.cpuprofile [OTHER.cpuprofile] [--top N] [--filter RE]`: where a profile
 * (from `node --cpu-prof`, e.g. `bench/cpu-per-request.ts --profile DIR`) spends its time, as shares of all
 * busy samples (idle ones left out): self time per function, and inclusive time per function (each function counted once per sample).
 * With a second profile, the same rows side by side (e.g. a contender and the bare gateway), ordered by the
 * difference. `--filter` keeps the functions whose `name file:line` matches.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
}

interface Shares {
  self: Map<string, number>;
  total: Map<string, number>;
  samples: number;
}

function label(n: Node): string {
  const f = n.callFrame;
  const file = f.url.replace(/^file:\/\/.*?\/(dist|src|node_modules)\//, '$1/').replace(/^node:/, 'node:');
  return `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
}

export function shares(p: Profile): Shares {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Idle samples (the process waiting in epoll) are left out: shares are of the time the process was busy.
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const count = new Map<number, number>();
  let busy = 0;
  for (const s of p.samples) {
    if (idle.has(s)) continue;
    busy++;
    count.set(s, (count.get(s) ?? 0) + 1);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, k] of count) {
    const n = byId.get(id)!;
    const l = label(n);
    self.set(l, (self.get(l) ?? 0) + k);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cl = label(byId.get(cur)!);
      if (seen.has(cl)) continue;
      seen.add(cl);
      total.set(cl, (total.get(cl) ?? 0) + k);
    }
  }
  return { self, total, samples: busy };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '40' }, filter: { type: 'string' } },
});
const [a, b] = positionals.map((f) => shares(JSON.parse(readFileSync(f!, 'utf8')) as Profile));
if (!a) {
  process.stderr.write(
    'usage: node bench/cpu-profile-top.ts A.cpuprofile [B.cpuprofile] [--top N] [--filter RE]\n',
  );
  process.exit(2);
}
const top = Number(values.top);
const re = values.filter ? new RegExp(values.filter) : undefined;
const pct = (m: Map<string, number>, s: Shares, k: string) => (100 * (m.get(k) ?? 0)) / s.samples;
for (const kind of ['self', 'total'] as const) {
  const keys = new Set([...a[kind].keys(), ...(b ? b[kind].keys() : [])]);
  const rows = [...keys]
    .filter((k) => !re || re.test(k))
    .map((k) => ({ k, x: pct(a[kind], a, k), y: b ? pct(b[kind], b, k) : 0 }))
    .sort((r, s) => (b ? s.x - s.y - (r.x - r.y) : s.x - r.x))
    .slice(0, top);
  process.stdout.write(`\n== ${kind} time, % of samples${b ? ' (A, B, A-B)' : ''}\n`);
  for (const r of rows)
    process.stdout.write(
      `${r.x.toFixed(2).padStart(6)}${b ? ` ${r.y.toFixed(2).padStart(6)} ${(r.x - r.y).toFixed(2).padStart(6)}` : ''}  ${r.k}\n`,
    );
}
