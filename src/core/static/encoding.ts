/**
 * Which precompressed sibling (`.br`, `.zst`, `.gz`) a request accepts, from its Accept-Encoding (q-values
 * honoured, `q=0` refuses, `*` covers codings not named). The candidates come in the configured preference order.
 */

export interface Precompressed {
  /** The Content-Encoding token: br, zstd or gzip. */
  readonly coding: string;
  /** The file-name suffix: .br, .zst or .gz. */
  readonly suffix: string;
}

export const PrecompressedSuffix: Readonly<Record<string, string>> = { br: '.br', zstd: '.zst', gzip: '.gz' };

/** The candidates the client accepts, best first (highest q, then the configured order). */
export function acceptedCodings(
  acceptEncoding: string | undefined,
  candidates: readonly Precompressed[],
): Precompressed[] {
  if (acceptEncoding === undefined || acceptEncoding === '' || candidates.length === 0) return [];
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name!.trim().toLowerCase();
    if (coding === '') continue;
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number(v?.trim());
        weight = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0;
      }
    }
    q.set(coding === 'x-gzip' ? 'gzip' : coding, weight);
  }
  const star = q.get('*');
  const accepted: Array<{ c: Precompressed; w: number; i: number }> = [];
  candidates.forEach((c, i) => {
    const w = q.get(c.coding) ?? star ?? 0;
    if (w > 0) accepted.push({ c, w, i });
  });
  accepted.sort((a, b) => b.w - a.w || a.i - b.i);
  return accepted.map((a) => a.c);
}
