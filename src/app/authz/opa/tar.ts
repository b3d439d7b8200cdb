/**
 * Reads the files of a tar archive (ustar, with GNU long names and PAX `path` records), for OPA bundles
 * (`opa build -t wasm` writes `bundle.tar.gz` with `/policy.wasm`, `/data.json` and `/.manifest`). Only regular
 * files are returned, by their name without a leading `/` or `./`. A malformed archive throws TarError.
 */
export class TarError extends Error {
  override readonly name = 'TarError';
}

const Block = 512;

export function readTar(archive: Uint8Array, wanted: (name: string) => boolean): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  let longName: string | undefined;
  while (offset + Block <= archive.length) {
    const header = archive.subarray(offset, offset + Block);
    if (header.every((b) => b === 0)) break; // end of archive
    if (!checksumOk(header)) throw new TarError(`bad header checksum at byte ${offset}`);
    const size = octal(header.subarray(124, 136), offset);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = offset + Block;
    const end = start + size;
    if (end > archive.length) throw new TarError(`entry at byte ${offset} runs past the end of the archive`);
    const data = archive.subarray(start, end);
    const magic = text(header.subarray(257, 263));
    const prefix = magic.startsWith('ustar') ? text(header.subarray(345, 500)) : '';
    const plain = text(header.subarray(0, 100));
    let name = longName ?? (prefix === '' ? plain : `${prefix}/${plain}`);
    longName = undefined;
    if (type === 'L') longName = text(data);
    else if (type === 'x') longName = paxPath(data);
    else if (type === '0' || type === '\0' || type === '7') {
      name = name.replace(/^(\.?\/)+/, '');
      if (wanted(name)) files.set(name, data);
    }
    offset = start + Math.ceil(size / Block) * Block;
  }
  return files;
}

function text(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

function octal(bytes: Uint8Array, at: number): number {
  const digits = text(bytes).trim();
  if (!/^[0-7]{1,12}$/.test(digits)) throw new TarError(`bad size field at byte ${at}`);
  return Number.parseInt(digits, 8);
}

function checksumOk(header: Uint8Array): boolean {
  const stored = text(header.subarray(148, 156)).trim();
  if (!/^[0-7]{1,8}$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < Block; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === Number.parseInt(stored, 8);
}

/** The `path` record of a PAX extended header (`<len> path=<name>\n` records), if any. */
function paxPath(data: Uint8Array): string | undefined {
  const records = new TextDecoder().decode(data);
  for (const line of records.split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}
