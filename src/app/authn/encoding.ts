/**
 * AILERON's EncodingType for stored secrets (`fileProvider.encoding`, `envProvider.encoding`): strict decoders, so
 * a value that is not valid in its encoding is a start-up error rather than a secret that never matches, and the
 * matching encoders (KeyAuthnMiddleware looks a digest up by its encoded form in AILERON).
 */

export type Encoding =
  | 'EncodingTypeUnknown'
  | 'Base16'
  | 'Base32'
  | 'Base32Hex'
  | 'Base32Escaped'
  | 'Base32HexEscaped'
  | 'Base64'
  | 'Base64Raw'
  | 'Base64URL'
  | 'Base64RawURL';

const Base32Alphabets: Partial<Record<Encoding, string>> = {
  Base32: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
  Base32Hex: '0123456789ABCDEFGHIJKLMNOPQRSTUV',
  Base32Escaped: 'BCDFGHJKLMNPQRSTUVWXYZ0123456789',
  Base32HexEscaped: '0123456789BCDFGHJKLMNPQRSTUVWXYZ',
};

/** Decodes `text` in `encoding`; undefined when it is not valid there. `EncodingTypeUnknown` = the UTF-8 bytes. */
export function decode(encoding: Encoding, text: string): Buffer | undefined {
  switch (encoding) {
    case 'EncodingTypeUnknown':
      return Buffer.from(text, 'utf8');
    case 'Base16':
      return /^(?:[0-9a-fA-F]{2})*$/.test(text) ? Buffer.from(text, 'hex') : undefined;
    case 'Base64':
      return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)
        ? Buffer.from(text, 'base64')
        : undefined;
    case 'Base64Raw':
      return /^[A-Za-z0-9+/]*$/.test(text) && text.length % 4 !== 1 ? Buffer.from(text, 'base64') : undefined;
    case 'Base64URL':
      return /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/.test(text)
        ? Buffer.from(text, 'base64url')
        : undefined;
    case 'Base64RawURL':
      return /^[A-Za-z0-9_-]*$/.test(text) && text.length % 4 !== 1
        ? Buffer.from(text, 'base64url')
        : undefined;
    default: {
      const alphabet = Base32Alphabets[encoding];
      return alphabet === undefined ? undefined : base32Decode(text, alphabet);
    }
  }
}

/** Encodes bytes in `encoding`, as AILERON writes them (padded where the encoding pads). */
export function encode(encoding: Encoding, bytes: Buffer): string {
  switch (encoding) {
    case 'EncodingTypeUnknown':
      return bytes.toString('utf8');
    case 'Base16':
      return bytes.toString('hex');
    case 'Base64':
      return bytes.toString('base64');
    case 'Base64Raw':
      return bytes.toString('base64').replace(/=+$/, '');
    case 'Base64URL': {
      const s = bytes.toString('base64url');
      return s + '='.repeat((4 - (s.length % 4)) % 4);
    }
    case 'Base64RawURL':
      return bytes.toString('base64url');
    default:
      return base32Encode(bytes, Base32Alphabets[encoding] ?? '');
  }
}

/** RFC 4648 base32 with padding required (as Go's padded encodings), over a 32-character alphabet. */
function base32Decode(text: string, alphabet: string): Buffer | undefined {
  if (text.length % 8 !== 0) return undefined;
  const body = text.replace(/=+$/, '');
  // The padding lengths a whole number of bytes leaves: 0, 1, 3, 4 or 6 characters.
  if (![0, 1, 3, 4, 6].includes(text.length - body.length)) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of body) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function base32Encode(bytes: Buffer, alphabet: string): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out + '='.repeat((8 - (out.length % 8)) % 8);
}
