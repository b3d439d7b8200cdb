/**
 * Which exposition format a scrape asks for. Prometheus sends an `Accept` listing OpenMetrics and the text
 * format with q-values; the OpenMetrics format is chosen when the client rates it at least as high as the text
 * format (`text/plain`, `text/*`, or `*\/*`) and above 0. No `Accept` (curl, older scrapers): the text format.
 */

/** Longest Accept header read; a longer one is judged on its first part (a scrape's is ~200 bytes). */
const MaxAccept = 4096;

export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || accept.length === 0) return false;
  const ranges = (accept.length > MaxAccept ? accept.slice(0, MaxAccept) : accept).split(',');
  let open = 0;
  let text = 0;
  for (const range of ranges) {
    const params = range.split(';');
    const type = params[0]!.trim().toLowerCase();
    const q = quality(params);
    if (type === 'application/openmetrics-text') open = Math.max(open, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return open > 0 && open >= text;
}

/** The `q` parameter of a media range (1 when absent; 0 when unreadable, so a bad range never wins). */
function quality(params: readonly string[]): number {
  for (let i = 1; i < params.length; i++) {
    const p = params[i]!.trim();
    if (p.length < 2 || (p[0] !== 'q' && p[0] !== 'Q') || p[1] !== '=') continue;
    const q = Number(p.slice(2));
    return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
  }
  return 1;
}
