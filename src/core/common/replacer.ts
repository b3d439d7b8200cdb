/**
 * AILERON's ReplacerSpec: one of fifteen ways to rewrite a string, used to mask values in logs (HTTPLogger
 * headers, queries and bodies; SLogger fieldReplacers). Each replacer is validated and compiled once at
 * start-up into a plain `(input) => output` function.
 */
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { Enum, Obj, type SchemaProblem, type Static, Type } from '../../kernel/schema.ts';
import { NodeHashes } from './hashalg.ts';
import { compileExpansion, goRegExp, PatternError } from './match.ts';

export const EncodingType = Enum([
  'EncodingTypeUnknown',
  'Base16',
  'Base32',
  'Base32Hex',
  'Base32Escaped',
  'Base32HexEscaped',
  'Base64',
  'Base64Raw',
  'Base64URL',
  'Base64RawURL',
]);

export const HashAlg = Enum([
  'HashAlgUnknown',
  'SHA1',
  'SHA224',
  'SHA256',
  'SHA384',
  'SHA512',
  'SHA512_224',
  'SHA512_256',
  'SHA3_224',
  'SHA3_256',
  'SHA3_384',
  'SHA3_512',
  'SHAKE128',
  'SHAKE256',
  'MD5',
  'FNV1_32',
  'FNV1a_32',
  'FNV1_64',
  'FNV1a_64',
  'FNV1_128',
  'FNV1a_128',
  'CRC32',
  'CRC64ISO',
  'CRC64ECMA',
  'BLAKE2s_256',
  'BLAKE2b_256',
  'BLAKE2b_384',
  'BLAKE2b_512',
]);

export const CommonKeyCryptType = Enum([
  'CommonKeyCryptTypeUnknown',
  'AESGCM',
  'AESCBC',
  'AESCFB',
  'AESCTR',
  'AESOFB',
]);

const CutSets = Type.Array(Type.String(), {
  default: [],
  description: 'sets of characters stripped; the first set that changes the value is used',
});
const Pattern = (options: { required?: boolean } = {}) =>
  options.required
    ? Type.String({ minLength: 1, description: 'regular expression (Go syntax)' })
    : Type.String({
        default: '',
        description: 'regular expression (Go syntax); each match is rewritten; "" = the whole value',
      });
const Posix = Type.Boolean({ default: false, description: 'read pattern as POSIX ERE (leftmost-longest)' });
const Encoding = Type.Unsafe<Static<typeof EncodingType>>({
  ...EncodingType,
  description: 'how the bytes are written: Base16, Base32, Base64, ...',
});
const Char = Type.String({ default: '', description: 'the character that replaces them' });
const Length = Type.Integer({ default: 0, minimum: 0, description: 'how many characters are replaced' });

export const ReplacerSpec = Obj(
  {
    fixed: Type.Optional(
      Obj(
        { value: Type.String({ default: '', description: 'the value that replaces the whole value' }) },
        { description: 'the whole value becomes value' },
      ),
    ),
    value: Type.Optional(
      Obj(
        {
          fromTo: Type.Record(Type.String(), Type.String(), {
            default: {},
            description: 'each key is replaced by its value, in the order written',
          }),
        },
        { description: 'replace substrings' },
      ),
    ),
    left: Type.Optional(
      Obj({ char: Char, length: Length }, { description: 'mask the first length characters' }),
    ),
    right: Type.Optional(
      Obj({ char: Char, length: Length }, { description: 'mask the last length characters' }),
    ),
    trim: Type.Optional(Obj({ cutSets: CutSets }, { description: 'strip characters at both ends' })),
    trimLeft: Type.Optional(Obj({ cutSets: CutSets }, { description: 'strip characters at the start' })),
    trimRight: Type.Optional(Obj({ cutSets: CutSets }, { description: 'strip characters at the end' })),
    trimPrefix: Type.Optional(
      Obj(
        {
          prefixes: Type.Array(Type.String(), {
            default: [],
            description: 'the first that matches is removed',
          }),
        },
        { description: 'remove a prefix' },
      ),
    ),
    trimSuffix: Type.Optional(
      Obj(
        {
          suffixes: Type.Array(Type.String(), {
            default: [],
            description: 'the first that matches is removed',
          }),
        },
        { description: 'remove a suffix' },
      ),
    ),
    encode: Type.Optional(
      Obj({ pattern: Pattern(), posix: Posix, encoding: Encoding }, { description: 'encode each match' }),
    ),
    hash: Type.Optional(
      Obj(
        {
          pattern: Pattern(),
          posix: Posix,
          alg: Type.Unsafe<Static<typeof HashAlg>>({ ...HashAlg, description: 'hash algorithm' }),
          encoding: Encoding,
        },
        { description: 'hash each match, then encode' },
      ),
    ),
    regexp: Type.Optional(
      Obj(
        {
          pattern: Pattern({ required: true }),
          replace: Type.String({
            default: '',
            description: 'replacement; may use $1, $name (or with braces) unless literal',
          }),
          posix: Posix,
          literal: Type.Boolean({
            default: false,
            description: 'replace is used as written, without $ references',
          }),
        },
        { description: 'replace every match of pattern' },
      ),
    ),
    expand: Type.Optional(
      Obj(
        {
          pattern: Pattern({ required: true }),
          template: Type.String({
            default: '',
            description: 'expanded for each match ($1, $name); the results joined',
          }),
          posix: Posix,
        },
        { description: 'the value becomes template expanded for each match' },
      ),
    ),
    encrypt: Type.Optional(
      Obj(
        {
          pattern: Pattern(),
          posix: Posix,
          alg: Type.Unsafe<Static<typeof CommonKeyCryptType>>({
            ...CommonKeyCryptType,
            description: 'cipher',
          }),
          encoding: Encoding,
          password: Type.String({ description: 'hex-encoded AES key: 16, 24 or 32 bytes' }),
        },
        { description: 'encrypt each match (random IV first), then encode' },
      ),
    ),
    hmac: Type.Optional(
      Obj(
        {
          pattern: Pattern(),
          posix: Posix,
          alg: Type.Unsafe<Static<typeof HashAlg>>({ ...HashAlg, description: 'hash algorithm of the HMAC' }),
          encoding: Encoding,
          key: Type.String({ description: 'hex-encoded HMAC key' }),
        },
        { description: 'HMAC of each match, then encode' },
      ),
    ),
  },
  { description: 'one rewrite of a value: set exactly one of its fields' },
);
export type ReplacerSpec = Static<typeof ReplacerSpec>;

export const ReplacerList = Type.Array(ReplacerSpec, { default: [] });
/** ReplacerList with the field's description. */
export function Replacers(description: string) {
  return Type.Array(ReplacerSpec, { default: [], description });
}

export type Replacer = (input: string) => string;

const Kinds = [
  'fixed',
  'value',
  'left',
  'right',
  'trim',
  'trimLeft',
  'trimRight',
  'trimPrefix',
  'trimSuffix',
  'encode',
  'hash',
  'regexp',
  'expand',
  'encrypt',
  'hmac',
] as const;

/**
 * Problems in a list of replacers, with paths relative to `base`: not exactly one kind set, invalid regular
 * expressions, unavailable algorithms, bad keys. `validate()` of a kind calls this so that `--validate` reports them.
 */
export function replacerProblems(
  list: readonly ReplacerSpec[],
  base: readonly (string | number)[],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  list.forEach((spec, i) => {
    const path = [...base, i];
    const set = Kinds.filter((k) => spec[k] !== undefined);
    if (set.length !== 1) {
      problems.push({
        path,
        message:
          set.length === 0 ? 'a replacer needs one kind' : `a replacer has one kind, found ${set.join(', ')}`,
        expected: `exactly one of ${Kinds.join(', ')}`,
        hint: set.length === 0 ? 'e.g. fixed: {value: "***"}' : 'split it into one list item per replacer',
      });
      return;
    }
    try {
      compileReplacer(spec);
    } catch (err) {
      const e = err as ReplacerError;
      problems.push({
        path: [...path, set[0]!, ...(e.field ? [e.field] : [])],
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    }
  });
  return problems;
}

class ReplacerError extends Error {
  readonly field: string | undefined;
  readonly hint: string | undefined;
  constructor(message: string, field?: string, hint?: string) {
    super(message);
    this.field = field;
    this.hint = hint;
  }
}

function regex(pattern: string, field = 'pattern'): RegExp {
  try {
    return goRegExp(pattern, 'g');
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    throw new ReplacerError(err.message, field, err.hint);
  }
}

/** Applies `fn` to each match of `pattern`, or to the whole input when the pattern is empty. */
function eachMatch(pattern: string, fn: (text: string) => string): Replacer {
  if (pattern === '') return fn;
  const re = regex(pattern);
  return (input) => input.replace(re, (m) => fn(m));
}

function encoding(name: string): (bytes: Buffer) => string {
  switch (name) {
    case 'Base16':
      return (b) => b.toString('hex');
    case 'Base32':
      return (b) => base32(b, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
    case 'Base32Hex':
      return (b) => base32(b, '0123456789ABCDEFGHIJKLMNOPQRSTUV');
    case 'Base32Escaped':
      return (b) => base32(b, 'BCDFGHJKLMNPQRSTUVWXYZ0123456789');
    case 'Base32HexEscaped':
      return (b) => base32(b, '0123456789BCDFGHJKLMNPQRSTUVWXYZ');
    case 'Base64':
      return (b) => b.toString('base64');
    case 'Base64Raw':
      return (b) => b.toString('base64').replace(/=+$/, '');
    case 'Base64URL':
      return (b) => {
        const s = b.toString('base64url');
        return s + '='.repeat((4 - (s.length % 4)) % 4);
      };
    case 'Base64RawURL':
      return (b) => b.toString('base64url');
    default:
      throw new ReplacerError('an encoding is required', 'encoding', 'e.g. encoding: Base64');
  }
}

/** RFC 4648 base32 with padding, over any 32-character alphabet. */
function base32(bytes: Buffer, alphabet: string): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out + '='.repeat((8 - (out.length % 8)) % 8);
}

function hashFunction(alg: string): { name: string; outputLength?: number } {
  const h = NodeHashes[alg];
  if (h) return h;
  if (alg === 'HashAlgUnknown')
    throw new ReplacerError('a hash algorithm is required', 'alg', 'e.g. alg: SHA256');
  throw new ReplacerError(
    `hash algorithm ${alg} is not available here`,
    'alg',
    'use one of SHA256, SHA512, SHA3_256, BLAKE2b_512, BLAKE2s_256 (Node.js has no FNV, CRC or short BLAKE2b digests)',
  );
}

function hexKey(text: string, field: string): Buffer {
  if (!/^([0-9a-fA-F]{2})+$/.test(text))
    throw new ReplacerError('must be hex-encoded bytes', field, 'write the key as hex, e.g. 000102...0f');
  return Buffer.from(text, 'hex');
}

const Ciphers: Record<string, string> = {
  AESGCM: 'gcm',
  AESCBC: 'cbc',
  AESCFB: 'cfb',
  AESCTR: 'ctr',
  AESOFB: 'ofb',
};

function encrypter(alg: string, password: string): (plain: Buffer) => Buffer {
  const mode = Ciphers[alg];
  if (!mode) throw new ReplacerError('an encryption algorithm is required', 'alg', 'e.g. alg: AESGCM');
  const key = hexKey(password, 'password');
  if (![16, 24, 32].includes(key.length))
    throw new ReplacerError(`an AES key is 16, 24 or 32 bytes, found ${key.length}`, 'password');
  const cipher = `aes-${key.length * 8}-${mode}`;
  if (mode === 'gcm') {
    return (plain) => {
      const nonce = randomBytes(12);
      const c = createCipheriv(cipher as 'aes-256-gcm', key, nonce);
      return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
    };
  }
  return (plain) => {
    const iv = randomBytes(16);
    const c = createCipheriv(cipher, key, iv);
    // CBC pads with PKCS#7 (Node's default); the stream modes need no padding.
    return Buffer.concat([iv, c.update(plain), c.final()]);
  };
}

/** Compiles one replacer. Throws a ReplacerError (with the offending field) for an invalid spec. */
export function compileReplacer(spec: ReplacerSpec): Replacer {
  if (spec.fixed) {
    const value = spec.fixed.value;
    return () => value;
  }
  if (spec.value) {
    const pairs = Object.entries(spec.value.fromTo).filter(([from]) => from !== '');
    return (input) => {
      let out = input;
      for (const [from, to] of pairs) out = out.split(from).join(to);
      return out;
    };
  }
  if (spec.left || spec.right) {
    const { char, length } = (spec.left ?? spec.right)!;
    const fromLeft = spec.left !== undefined;
    return (input) => {
      const chars = [...input];
      const n = Math.min(length, chars.length);
      if (n === 0) return input;
      return fromLeft
        ? char.repeat(n) + chars.slice(n).join('')
        : chars.slice(0, chars.length - n).join('') + char.repeat(n);
    };
  }
  if (spec.trim || spec.trimLeft || spec.trimRight) {
    const sets = (spec.trim ?? spec.trimLeft ?? spec.trimRight)!.cutSets.filter((s) => s !== '');
    const left = spec.trimRight === undefined;
    const right = spec.trimLeft === undefined;
    return (input) => {
      for (const set of sets) {
        const chars = new Set(set);
        const cps = [...input];
        let start = 0;
        let end = cps.length;
        if (left) while (start < end && chars.has(cps[start]!)) start++;
        if (right) while (end > start && chars.has(cps[end - 1]!)) end--;
        if (start !== 0 || end !== cps.length) return cps.slice(start, end).join('');
      }
      return input;
    };
  }
  if (spec.trimPrefix) {
    const prefixes = spec.trimPrefix.prefixes.filter((p) => p !== '');
    return (input) => {
      for (const p of prefixes) if (input.startsWith(p)) return input.slice(p.length);
      return input;
    };
  }
  if (spec.trimSuffix) {
    const suffixes = spec.trimSuffix.suffixes.filter((s) => s !== '');
    return (input) => {
      for (const s of suffixes) if (input.endsWith(s)) return input.slice(0, input.length - s.length);
      return input;
    };
  }
  if (spec.encode) {
    const enc = encoding(spec.encode.encoding);
    return eachMatch(spec.encode.pattern, (t) => enc(Buffer.from(t)));
  }
  if (spec.hash) {
    const { name, outputLength } = hashFunction(spec.hash.alg);
    const enc = encoding(spec.hash.encoding);
    const options = outputLength ? { outputLength } : undefined;
    return eachMatch(spec.hash.pattern, (t) => enc(createHash(name, options).update(t).digest()));
  }
  if (spec.hmac) {
    const { name } = hashFunction(spec.hmac.alg);
    if (name.startsWith('shake'))
      throw new ReplacerError('SHAKE cannot be used for HMAC', 'alg', 'use SHA256 or SHA3_256');
    const enc = encoding(spec.hmac.encoding);
    const key = hexKey(spec.hmac.key, 'key');
    return eachMatch(spec.hmac.pattern, (t) => enc(createHmac(name, key).update(t).digest()));
  }
  if (spec.encrypt) {
    const enc = encoding(spec.encrypt.encoding);
    const encrypt = encrypter(spec.encrypt.alg, spec.encrypt.password);
    return eachMatch(spec.encrypt.pattern, (t) => {
      try {
        return enc(encrypt(Buffer.from(t)));
      } catch (err) {
        return `!ERROR[${(err as Error).message}]`;
      }
    });
  }
  if (spec.regexp) {
    const re = regex(spec.regexp.pattern);
    const replace = spec.regexp.replace;
    if (spec.regexp.literal) return (input) => input.replace(re, () => replace);
    const expand = compileExpansion(replace);
    return (input) =>
      input.replace(re, (...args) => {
        // Rebuild the match array shape Expansion reads: [whole, ...groups] plus named groups.
        const named = typeof args.at(-1) === 'object' ? (args.at(-1) as Record<string, string>) : undefined;
        const groups = args.slice(0, named ? -3 : -2) as string[];
        const m = Object.assign(groups, { groups: named, index: 0, input }) as unknown as RegExpExecArray;
        return expand(m);
      });
  }
  if (spec.expand) {
    const re = regex(spec.expand.pattern);
    const expand = compileExpansion(spec.expand.template);
    return (input) => {
      let out = '';
      re.lastIndex = 0;
      for (const m of input.matchAll(re)) out += expand(m);
      return out;
    };
  }
  throw new ReplacerError('a replacer needs one kind');
}

/** Compiles a list into one function that applies each replacer in order; `undefined` for an empty list. */
export function compileReplacers(list: readonly ReplacerSpec[] | undefined): Replacer | undefined {
  if (!list || list.length === 0) return undefined;
  const fns = list.map(compileReplacer);
  if (fns.length === 1) return fns[0];
  return (input) => {
    let out = input;
    for (const f of fns) out = f(out);
    return out;
  };
}
