/**
 * AILERON's `HashAlg` names and the Node.js hash each one is, for every feature that takes a `hashAlg` field (the
 * replacers' hash and HMAC, API key hashing). Node.js has no FNV, CRC or BLAKE2b-256/384: those names are absent,
 * and each caller refuses them with its own message. SHAKE128/256 are extendable-output functions: `outputLength`
 * gives AILERON's digest size in bytes.
 */
export const NodeHashes: Readonly<Record<string, { readonly name: string; readonly outputLength?: number }>> =
  {
    SHA1: { name: 'sha1' },
    SHA224: { name: 'sha224' },
    SHA256: { name: 'sha256' },
    SHA384: { name: 'sha384' },
    SHA512: { name: 'sha512' },
    SHA512_224: { name: 'sha512-224' },
    SHA512_256: { name: 'sha512-256' },
    SHA3_224: { name: 'sha3-224' },
    SHA3_256: { name: 'sha3-256' },
    SHA3_384: { name: 'sha3-384' },
    SHA3_512: { name: 'sha3-512' },
    SHAKE128: { name: 'shake128', outputLength: 32 },
    SHAKE256: { name: 'shake256', outputLength: 64 },
    MD5: { name: 'md5' },
    BLAKE2s_256: { name: 'blake2s256' },
    BLAKE2b_512: { name: 'blake2b512' },
  };
