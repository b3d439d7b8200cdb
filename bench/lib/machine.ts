/** What the numbers were measured on: printed with every report, since they only compare within one machine. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly loadAverage: readonly number[];
  readonly tools: Record<string, string>;
}

function cpuModel(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function packageVersion(root: string, name: string): string {
  try {
    return (
      JSON.parse(readFileSync(`${root}/node_modules/${name}/package.json`, 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'missing';
  }
}

export function nginxVersion(): string {
  const v = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${v.stderr}${v.stdout}`)?.[1] ?? 'unknown';
}

export function machine(root: string, tools: Record<string, string>): Machine {
  return {
    nproc: availableParallelism(),
    cpu: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    tools: { undici: packageVersion(root, 'undici'), ...tools },
  };
}

export function describe(m: Machine): string {
  const tools = Object.entries(m.tools)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `nproc ${m.nproc} · ${m.cpu} · ${m.memoryGiB} GiB · node ${m.node} · kernel ${m.kernel} · ` +
    `load average at start ${m.loadAverage.join(' ')} · ${tools}`
  );
}
