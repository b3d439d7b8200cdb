// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the mutations write literal ${VAR} expressions
/**
 * Seeded mutations of configuration files, for the loader's fuzz test (src/cli.fuzz.test.ts). A seed names a
 * sequence of cases exactly, so a failure is replayed with `FUZZ_SEED=<seed> FUZZ_ONLY=<case>`.
 * No dependency: a small PRNG (mulberry32) is enough to spread the cases; they need not be unpredictable.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
}

export function random(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)]!,
  };
}

export interface CorpusFile {
  /** Path relative to its corpus root, for messages. */
  readonly name: string;
  readonly text: string;
}

/** Every .yaml, .yml and .json file under `root`, recursively, in a stable order. */
export function corpus(root: string): CorpusFile[] {
  const out: CorpusFile[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) visit(path);
      else if (['.yaml', '.yml', '.json'].includes(extname(entry)))
        out.push({ name: relative(root, path), text: readFileSync(path, 'utf8') });
    }
  };
  visit(root);
  return out;
}

/** The environment every case runs with: variables that grow when expanded twice, as a hostile one would. */
export const FuzzEnv: Readonly<Record<string, string>> = {
  A: 'x'.repeat(64 * 1024),
  B: '${A}'.repeat(80), // 5 MiB once expanded again
  C: '${B}${B}',
  SMALL: '127.0.0.1:0',
};

/** An env file of variables that each double the last (then mutated): past the per-value limit from its 13th line. */
export function envFileText(r: Random): string {
  const lines = [
    'A0=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  ];
  const n = 2 + r.int(30); // 100 characters x 2^30 would be 100 GiB: the limits stop it at the 13th line
  for (let i = 1; i < n; i++) lines.push(`A${i}=\${A${i - 1}}\${A${i - 1}}`);
  return mutateText(lines.join('\n'), r, 1 + r.int(2)).text;
}

const Specials = [
  '{',
  '}',
  '[',
  ']',
  ':',
  '-',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
  '\t',
  ' ',
  '\n',
  '\\',
  ',',
  '?',
  '$',
  '\u0000',
  '\u00e9',
  '\ud83d\ude00',
];
const ProtoNames = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
];
const EnvRefs = [
  '${A}',
  '${B}',
  '${C}',
  '${toString}',
  '${constructor:-x}',
  '${__proto__}',
  '${__proto__=x}',
  '${MISSING:?required}',
  '${A:0:5}',
  '${#B}',
  '${A@U}',
  '${SMALL',
  '${1BAD}',
  '${}',
  '${A:-${B}}',
  '$${A}',
];
const Scalars = [
  '{}',
  '[]',
  'null',
  '~',
  '-1',
  '1e999',
  '0x10',
  '.inf',
  'true',
  '"',
  "'",
  '*a',
  '&a',
  '!!binary x',
  '? x',
];
const Names = ['{toString: 1}', '[1, 2]', '5', 'null', 'true', '{valueOf: x}', '""', `"${'n'.repeat(300)}"`];

type Mutation = (text: string, r: Random) => [string, string];

const lineStarts = (text: string): number[] => {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1))
    starts.push(i + 1);
  return starts;
};

const replaceLine = (text: string, r: Random, edit: (line: string) => string): string => {
  const lines = text.split('\n');
  const i = r.int(lines.length);
  lines[i] = edit(lines[i]!);
  return lines.join('\n');
};

/** Replaces the value of a random `key: value` line (or appends one) by `value`. */
const setValue = (text: string, r: Random, value: string): string =>
  replaceLine(text, r, (line) => {
    const colon = line.indexOf(': ');
    return colon >= 0 ? `${line.slice(0, colon + 2)}${value}` : `${line}\n  k: ${value}`;
  });

const Mutations: Record<string, Mutation> = {
  flip: (t, r) => {
    const at = r.int(t.length + 1);
    const c = r.next() < 0.7 ? r.pick(Specials) : String.fromCharCode(r.int(128));
    return [`${t.slice(0, at)}${c}${t.slice(at + 1)}`, `flip@${at}=${JSON.stringify(c)}`];
  },
  deleteLine: (t, r) => {
    const lines = t.split('\n');
    const i = r.int(lines.length);
    lines.splice(i, 1);
    return [lines.join('\n'), `delete line ${i + 1}`];
  },
  duplicateLine: (t, r) => {
    const lines = t.split('\n');
    const i = r.int(lines.length);
    lines.splice(i, 0, lines[i]!);
    return [lines.join('\n'), `duplicate line ${i + 1}`];
  },
  deepNesting: (t, r) => {
    const n = r.pick([40, 70, 500, 20_000]);
    const style = r.int(3);
    const deep =
      style === 0
        ? `${'['.repeat(n)}${']'.repeat(r.int(2) * n)}`
        : style === 1
          ? `${'{a: '.repeat(n)}1${'}'.repeat(n)}`
          : `\n${'  - '.repeat(Math.min(n, 2000))}x`;
    return [setValue(t, r, deep), `nest ${n} (${['flow', 'map', 'block'][style]})`];
  },
  swapKeys: (t, r) => {
    const lines = t.split('\n');
    const keyed = lines.flatMap((l, i) => (/^\s*[\w-]+:/.test(l) ? [i] : []));
    if (keyed.length < 2) return [t, 'swap (none)'];
    const [i, j] = [r.pick(keyed), r.pick(keyed)];
    const key = (l: string) => /^(\s*)([\w-]+):/.exec(l)!;
    const [ki, kj] = [key(lines[i]!), key(lines[j]!)];
    lines[i] = lines[i]!.replace(/^(\s*)[\w-]+:/, `$1${kj[2]}:`);
    lines[j] = lines[j]!.replace(/^(\s*)[\w-]+:/, `$1${ki[2]}:`);
    return [lines.join('\n'), `swap keys of lines ${i + 1} and ${j + 1}`];
  },
  protoKey: (t, r) => {
    const name = r.pick(ProtoNames);
    return [
      replaceLine(t, r, (l) =>
        /^\s*[\w-]+:/.test(l) ? l.replace(/[\w-]+:/, `${name}:`) : `${l}\n${name}: 1`,
      ),
      `key ${name}`,
    ];
  },
  hugeValue: (t, r) => {
    const size = r.pick([300 * 1024, 1_000_000]); // larger ones cost time (the YAML parser), not coverage
    if (r.next() < 0.3) return [`${t}\n${'k'.repeat(size)}: 1\n`, `huge key ${size}`];
    return [setValue(t, r, `"${'9'.repeat(size)}"`), `huge value ${size}`];
  },
  envRef: (t, r) => {
    const ref = r.pick(EnvRefs);
    return [setValue(t, r, r.next() < 0.5 ? `"${ref}"` : ref), `env ${ref}`];
  },
  nul: (t, r) => {
    const at = r.int(t.length + 1);
    const nul = r.next() < 0.5 ? '\u0000' : '"\\0"';
    return [`${t.slice(0, at)}${nul}${t.slice(at)}`, `NUL@${at}`];
  },
  aliases: (t, r) => {
    const depth = 2 + r.int(6);
    const lines = ['laugh0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= depth; i++)
      lines.push(
        `laugh${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return [`${t}\n${lines.join('\n')}\n`, `aliases depth ${depth}`];
  },
  metadataName: (t, r) => {
    const name = r.pick(Names);
    const field = r.pick(['name', 'namespace', 'logger']);
    return [
      t.replace(/^kind: .*$/m, (k) => `${k}\nmetadata: {${field}: ${name}}`),
      `metadata.${field}: ${name}`,
    ];
  },
  truncate: (t, r) => {
    const at = r.int(t.length + 1);
    return [t.slice(0, at), `truncate@${at}`];
  },
  scalar: (t, r) => {
    const value = r.pick(Scalars);
    return [setValue(t, r, value), `value ${value}`];
  },
  lineStart: (t, r) => {
    const starts = lineStarts(t);
    const at = r.pick(starts);
    const insert = r.pick(['---\n', '- ', '? ', '  ', '\t', '%YAML 1.2\n', '... \n', '&x ', '!tag ']);
    return [`${t.slice(0, at)}${insert}${t.slice(at)}`, `insert ${JSON.stringify(insert)}@${at}`];
  },
};

const MutationNames = Object.keys(Mutations);

/** Applies `count` random mutations; returns the text and what was done, for the failure message. */
export function mutateText(text: string, r: Random, count: number): { text: string; steps: string[] } {
  const steps: string[] = [];
  let out = text;
  for (let i = 0; i < count; i++) {
    const name = r.pick(MutationNames);
    const [next, step] = Mutations[name]!(out, r);
    out = next;
    steps.push(`${name}: ${step}`);
  }
  return { text: out, steps };
}
