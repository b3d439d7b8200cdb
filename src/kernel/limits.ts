/**
 * Size limits of the configuration loader. A config or env file is outside input: whatever it holds (a huge
 * value, deep nesting, variables that expand into each other, aliases), loading it ends quickly with a config
 * problem naming the limit and the place, never with a crash, an exhausted heap or a stuck process.
 * docs/configuration.md ("Limits") states these numbers; change both together.
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export const Limits = {
  /** A config file (`-f`), in bytes as read; also its text after `${...}` substitution, in characters. */
  fileSize: 4 * MiB,
  /** Every config file of one load together, in bytes as read. */
  totalSize: 16 * MiB,
  /** YAML tokens of every config file of one load together. */
  totalTokens: 400_000,
  /** An env file (`-e`), in bytes; also the sum of the values it sets, after `${...}` expansion. */
  envFileSize: 1 * MiB,
  /** One value: what one `${...}` expands to, one env-file value, one string in a spec. */
  valueSize: 256 * KiB,
  /** Mappings and lists inside one another in a document (the document's own mapping is level 1). */
  depth: 64,
  /** YAML tokens in a file: values and the indicators `-` `:` `?` `,` `[` `{` (a usual line has 2 to 4). */
  tokens: 100_000,
  /** Alias (`*name`) expansions in a document, counting aliases inside aliased nodes (`yaml` maxAliasCount). */
  aliases: 100,
  /** Problems listed by one load; the rest are counted. */
  problems: 100,
  /** `metadata.name`, `metadata.namespace` and the name and namespace of a reference. */
  nameLength: 253,
  /** A mapping key; and an env-file variable name. */
  keyLength: 1024,
} as const;

/** `262144` as `256 KiB`, for messages. */
export function formatSize(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n}`;
}
