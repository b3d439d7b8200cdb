/**
 * A stand-in for a policy compiled by `opa build -t wasm`: a WebAssembly module assembled here, byte by byte, that
 * implements the part of OPA's wasm ABI 1.2 the JavaScript SDK (@open-policy-agent/opa-wasm) calls: the version
 * globals, `builtins`, `entrypoints` (one: `example/authz/allow`, id 0), `opa_malloc`, `opa_json_parse`,
 * `opa_json_dump`, `opa_heap_ptr_get/set` and `opa_eval`. No opa binary or Go toolchain can be installed where the
 * tests run, so this is what exercises the gateway's wasm path (loading, data.json, entrypoints, input, result set).
 * It is not a compiled Rego policy: its "policy" is fixed in code:
 *
 *   allow if the first character of input.api after "/" equals the first character of data.c
 *   (traps with `unreachable` when that character is "x", as a policy failing at evaluation)
 *
 * Values are kept as raw JSON text (json_parse and json_dump are the identity), which is all the SDK needs: the
 * input is canonical JSON (`{"api":"/…`, so its byte 9 is that character) and data.json is `{"c":"<char>"…`
 * (byte 6).
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const bytesOf = (text: string): number[] => [...Buffer.from(text, 'utf8')];
const name = (text: string): number[] => [...leb(Buffer.byteLength(text)), ...bytesOf(text)];
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
const i32 = 0x7f;
const constI32 = (n: number) => [0x41, ...sleb(n)];

const Builtins = 0x100;
const Entrypoints = 0x110;
const Allow = 0x200;
const Deny = 0x220;
const HeapStart = 0x1000;

export function opaAbiStandin(): Uint8Array {
  const types = vec([
    [0x60, 0, 1, i32], // t0: () -> i32
    [0x60, 1, i32, 1, i32], // t1: (i32) -> i32
    [0x60, 2, i32, i32, 1, i32], // t2: (i32, i32) -> i32
    [0x60, 1, i32, 0], // t3: (i32) -> ()
    [0x60, 7, i32, i32, i32, i32, i32, i32, i32, 1, i32], // t4: opa_eval
  ]);
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]]);
  const functions = vec([[0], [0], [1], [1], [2], [0], [3], [4]]);
  const globals = vec([
    [i32, 1, ...constI32(HeapStart), 0x0b], // g0: heap pointer (mutable)
    [i32, 0, ...constI32(1), 0x0b], // g1: ABI version 1
    [i32, 0, ...constI32(2), 0x0b], // g2: ABI minor version 2
  ]);
  const exp = (text: string, kind: number, index: number) => [...name(text), kind, index];
  const exports = vec([
    exp('builtins', 0, 0),
    exp('entrypoints', 0, 1),
    exp('opa_json_dump', 0, 2),
    exp('opa_malloc', 0, 3),
    exp('opa_json_parse', 0, 4),
    exp('opa_heap_ptr_get', 0, 5),
    exp('opa_heap_ptr_set', 0, 6),
    exp('opa_eval', 0, 7),
    exp('opa_wasm_abi_version', 3, 1),
    exp('opa_wasm_abi_minor_version', 3, 2),
  ]);
  const body = (code: number[]) => {
    const b = [0x00, ...code, 0x0b]; // no locals
    return [...leb(b.length), ...b];
  };
  const pathChar = [0x20, 3, 0x2d, 0x00, 9]; // local.get input; i32.load8_u offset=9
  const code = vec([
    body(constI32(Builtins)),
    body(constI32(Entrypoints)),
    body([0x20, 0]),
    // opa_malloc(n): old heap, heap += n + 1
    body([0x23, 0, 0x23, 0, 0x20, 0, 0x6a, ...constI32(1), 0x6a, 0x24, 0]),
    body([0x20, 0]),
    body([0x23, 0]),
    body([0x20, 0, 0x24, 0]),
    body([
      // if the character is "x": unreachable (a trap)
      ...pathChar,
      ...constI32(0x78),
      0x46,
      0x04,
      0x40,
      0x00,
      0x0b,
      // character == data byte 6 ? Allow : Deny
      ...pathChar,
      0x20,
      2,
      0x2d,
      0x00,
      6,
      0x46,
      0x04,
      i32,
      ...constI32(Allow),
      0x05,
      ...constI32(Deny),
      0x0b,
    ]),
  ]);
  const segment = (at: number, text: string) => [0x00, ...constI32(at), 0x0b, ...name(`${text}\0`)];
  const data = vec([
    segment(Builtins, '{}'),
    segment(Entrypoints, '{"example/authz/allow":0}'),
    segment(Allow, '[{"result":true}]'),
    segment(Deny, '[{"result":false}]'),
  ]);
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, code),
    ...section(11, data),
  ]);
}
