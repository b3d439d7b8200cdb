/**
 * Linux /proc sampling: process trees, CPU time, peak memory, machine-wide busy time and "foreign" CPU (used by
 * processes that are not the harness's). Everything is read between load runs, never during one, so the
 * sampling itself costs the measured processes nothing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (CLK_TCK; 100 on every mainstream Linux). */
export const Hz = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

interface Stat {
  readonly ppid: number;
  readonly ticks: number; // utime + stime
}

/** utime+stime and parent of one process, or undefined if it is gone. The comm field may hold spaces and ')'. */
function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state(0) ppid(1) ... utime(11) stime(12)
  return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function allPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/** One pass over /proc: every process with its parent and CPU ticks. */
export function snapshot(): Map<number, Stat> {
  const map = new Map<number, Stat>();
  for (const pid of allPids()) {
    const s = readStat(pid);
    if (s) map.set(pid, s);
  }
  return map;
}

/** `root` and all its live descendants. */
export function tree(root: number, snap: Map<number, Stat> = snapshot()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, s] of snap) {
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  const out: number[] = [];
  const todo = snap.has(root) ? [root] : [];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Sum of utime+stime (ticks) over `pids`; processes that have exited count 0. */
export function cpuTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += readStat(pid)?.ticks ?? 0;
  return sum;
}

/** VmHWM (peak resident set, KiB) of one process; 0 when it has exited. */
export function processPeakRssKiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // exited meanwhile
  }
}

/** Σ VmHWM (peak resident set, KiB) over `pids`. */
export function peakRssKiB(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += processPeakRssKiB(pid);
  return sum;
}

/** Machine-wide jiffies from /proc/stat: busy (user..softirq + steal), idle (idle + iowait), steal. */
export function systemTicks(): { busy: number; idle: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait, steal };
}

export interface Foreign {
  readonly ticks: number;
  /** The biggest foreign consumers, for the log: `comm(pid) seconds`. */
  readonly top: string;
}

/**
 * CPU ticks used between two snapshots by processes that are neither `self` nor its descendants (other
 * people's tests, package installs, ...). Kernel threads (children of kthreadd, pid 2) are left out; a
 * process that started and ended between the snapshots is missed.
 */
export function foreign(before: Map<number, Stat>, after: Map<number, Stat>, self: number): Foreign {
  const own = new Set(tree(self, after));
  let ticks = 0;
  const used: Array<[number, number]> = [];
  for (const [pid, s] of after) {
    if (own.has(pid) || pid === 2 || s.ppid === 2) continue;
    const prev = before.get(pid);
    const d = prev ? Math.max(0, s.ticks - prev.ticks) : s.ticks;
    if (d > 0) {
      ticks += d;
      used.push([pid, d]);
    }
  }
  const top = used
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([pid, d]) => `${comm(pid)}(${pid}) ${(d / Hz).toFixed(1)} s`)
    .join(', ');
  return { ticks, top };
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'gone';
  }
}
