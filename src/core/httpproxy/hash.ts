/**
 * The hashes AILERON's load balancers are built on, bit-exact so that a request keyed the same way lands on the
 * same upstream in both gateways: xxHash64 (seed 0) of a string's UTF-8 bytes, and the SplitMix64 finaliser
 * (`mix64`) the ring, Maglev and direct-hash balancers use to spread keys.
 *
 * 64-bit values are BigInts. Per request this costs one xxHash64 of a short key plus a few mix64 calls
 * (about a microsecond); the tables are built once at start-up.
 */

const M64 = 0xffff_ffff_ffff_ffffn;
const P1 = 0x9e37_79b1_85eb_ca87n;
const P2 = 0xc2b2_ae3d_27d4_eb4fn;
const P3 = 0x1656_67b1_9e37_79f9n;
const P4 = 0x85eb_ca77_c2b2_ae63n;
const P5 = 0x27d4_eb2f_1656_67c5n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;

function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & M64;
  return (rotl(acc, 31n) * P1) & M64;
}

function merge(acc: bigint, val: bigint): bigint {
  acc ^= round(0n, val);
  return (acc * P1 + P4) & M64;
}

// One scratch buffer for encoding keys: hashing never allocates for keys up to its size.
let scratch = new Uint8Array(256);
let view = new DataView(scratch.buffer);
const encoder = new TextEncoder();

/** xxHash64 (seed 0) of the UTF-8 encoding of `s`, as Go's `xxhash.Sum64String`. */
export function xxhash64(s: string): bigint {
  if (s.length * 3 > scratch.length) {
    scratch = new Uint8Array(s.length * 3);
    view = new DataView(scratch.buffer);
  }
  const n = encoder.encodeInto(s, scratch).written;
  return xxhash64Bytes(view, n);
}

function xxhash64Bytes(b: DataView, n: number): bigint {
  let p = 0;
  let h: bigint;
  if (n >= 32) {
    let v1 = (P1 + P2) & M64;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (0n - P1) & M64;
    for (; p + 32 <= n; p += 32) {
      v1 = round(v1, b.getBigUint64(p, true));
      v2 = round(v2, b.getBigUint64(p + 8, true));
      v3 = round(v3, b.getBigUint64(p + 16, true));
      v4 = round(v4, b.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = P5;
  }
  h = (h + BigInt(n)) & M64;
  for (; p + 8 <= n; p += 8) {
    h ^= round(0n, b.getBigUint64(p, true));
    h = (rotl(h, 27n) * P1 + P4) & M64;
  }
  if (p + 4 <= n) {
    h ^= (BigInt(b.getUint32(p, true)) * P1) & M64;
    h = (rotl(h, 23n) * P2 + P3) & M64;
    p += 4;
  }
  for (; p < n; p++) {
    h ^= (BigInt(b.getUint8(p)) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
  }
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h;
}

/** The SplitMix64 finaliser: a cheap, well-spread 64-bit permutation. */
export function mix64(z: bigint): bigint {
  z = (z + 0x9e37_79b9_7f4a_7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn) & M64;
  return z ^ (z >> 31n);
}

/** `x / 2^64` as a double in [0, 1], rounded as Go's `float64(x) / math.MaxUint64`. */
export function unitFloat(x: bigint): number {
  return Number(x) / 2 ** 64;
}
