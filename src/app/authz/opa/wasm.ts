/**
 * Policies compiled to WebAssembly by `opa build -t wasm -e <entrypoint> policy.rego`, evaluated in this process
 * with @open-policy-agent/opa-wasm (OPA's own JavaScript SDK for its wasm ABI). The file is the `bundle.tar.gz` OPA
 * writes (its `/policy.wasm`, and `/data.json` as the policy's data if present) or a bare `policy.wasm`.
 *
 * Everything is checked at load time, with a message that says what to do: a missing file, a bundle without
 * `policy.wasm` (a Rego bundle: not evaluated in-process), a file that is not WebAssembly or not an OPA policy,
 * an entrypoint the policy does not have. Per request only `evaluate` runs (synchronously, microseconds for
 * simple policies); an exception there (a trap, a builtin the SDK lacks) is a failure, never an allow.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as opaWasm from '@open-policy-agent/opa-wasm';
import { readTar, TarError } from './tar.ts';

/** The largest bundle or wasm file read, and the largest it may inflate to. */
export const MaxWasmBytes = 64 << 20;

export class WasmPolicyError extends Error {
  override readonly name = 'WasmPolicyError';
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

interface LoadedPolicy {
  readonly entrypoints: Record<string, number>;
  evaluate(input: ArrayBuffer, entrypoint: number): unknown;
  setData(data: ArrayBuffer): void;
}

// The SDK's ES module exports loadPolicySync on its default export only (its type declarations say otherwise).
const sdk = (opaWasm as unknown as { default: { loadPolicySync(wasm: Uint8Array): LoadedPolicy } }).default;
const loadPolicySync = (wasm: Uint8Array): LoadedPolicy => sdk.loadPolicySync(wasm);

/** The WebAssembly global (Node's; the project's TypeScript libraries do not declare it). */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      validate(bytes: Uint8Array): boolean;
      Module: { new (bytes: Uint8Array): object; exports(module: object): { name: string }[] };
    };
  }
).WebAssembly;

const BuildHint = (entrypoint: string) =>
  `compile the policy with: opa build -t wasm -e ${entrypoint} policy.rego (it writes bundle.tar.gz)`;

export interface WasmPolicy {
  /** Entrypoint names the policy has (`example/authz/allow`). */
  readonly entrypoints: readonly string[];
  /** True when the policy's result for `inputText` (JSON) at `entrypoint` is exactly `true`. */
  allows(entrypoint: string, inputText: string): boolean;
}

/** Loads `path` and checks that it has `entrypoints`; throws WasmPolicyError with a fix. */
export function openWasmPolicy(path: string, entrypoints: readonly string[]): WasmPolicy {
  const first = entrypoints[0] ?? 'example/authz/allow';
  const { wasm, data } = readPolicyFiles(path, first);
  if (!Wasm.validate(wasm))
    throw new WasmPolicyError(`${path} is not a WebAssembly module`, BuildHint(first));
  const exports = new Set(Wasm.Module.exports(new Wasm.Module(wasm)).map((e) => e.name));
  if (!exports.has('opa_wasm_abi_version') || !(exports.has('opa_eval') || exports.has('eval')))
    throw new WasmPolicyError(
      `${path} is WebAssembly but not an OPA policy (it has no opa_wasm_abi_version and opa_eval exports)`,
      BuildHint(first),
    );
  let policy: LoadedPolicy;
  try {
    policy = loadPolicySync(wasm);
    if (data !== undefined) policy.setData(toArrayBuffer(data));
  } catch (err) {
    throw new WasmPolicyError(
      `${path} cannot be loaded as an OPA policy: ${messageOf(err)}`,
      BuildHint(first),
    );
  }
  const ids = new Map(Object.entries(policy.entrypoints));
  for (const name of entrypoints) {
    if (!ids.has(name))
      throw new WasmPolicyError(
        `${path} has no entrypoint "${name}" (it has: ${[...ids.keys()].join(', ') || 'none'})`,
        BuildHint(name),
      );
  }
  return {
    entrypoints: [...ids.keys()],
    allows(entrypoint, inputText) {
      const id = ids.get(entrypoint)!;
      const results = policy.evaluate(toArrayBuffer(new TextEncoder().encode(inputText)), id);
      // A result set: [{result: value}]; allowed when there is exactly one, and it is true (AILERON's Allowed()).
      return (
        Array.isArray(results) &&
        results.length === 1 &&
        (results[0] as { result?: unknown } | null)?.result === true
      );
    },
  };
}

function readPolicyFiles(
  path: string,
  entrypoint: string,
): { wasm: Uint8Array; data: Uint8Array | undefined } {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new WasmPolicyError(`${path} is not a file`, BuildHint(entrypoint));
    if (stat.size > MaxWasmBytes)
      throw new WasmPolicyError(`${path} is larger than ${MaxWasmBytes} bytes`, BuildHint(entrypoint));
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof WasmPolicyError) throw err;
    throw new WasmPolicyError(`cannot read ${path}: ${messageOf(err)}`, BuildHint(entrypoint));
  }
  // gzip magic: a bundle.tar.gz; anything else is taken as the wasm module itself.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return { wasm: bytes, data: undefined };
  let files: Map<string, Uint8Array>;
  try {
    const tar = gunzipSync(bytes, { maxOutputLength: MaxWasmBytes });
    files = readTar(tar, (name) => name === 'policy.wasm' || name === 'data.json');
  } catch (err) {
    const what = err instanceof TarError ? `not a tar archive (${err.message})` : messageOf(err);
    throw new WasmPolicyError(`${path} is not a readable bundle: ${what}`, BuildHint(entrypoint));
  }
  const wasm = files.get('policy.wasm');
  if (wasm === undefined)
    throw new WasmPolicyError(
      `${path} has no policy.wasm: it is a Rego bundle, which this gateway does not evaluate in-process`,
      `${BuildHint(entrypoint)}, or serve the bundle with an OPA server and set opaServer.url`,
    );
  return { wasm, data: files.get('data.json') };
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string')
    return (err as { message: string }).message;
  return String(err);
}
