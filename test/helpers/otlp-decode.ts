/**
 * Decoding of OTLP export requests (traces and metrics) into plain objects, from protobuf or from OTLP/JSON, for
 * the loopback receiver of `otlp.ts`. One schema table drives both decoders so that a test sees the same shape
 * whichever encoding the exporter chose: the OTLP/JSON shape (lowerCamelCase names, trace and span ids as lowercase
 * hex, enums as numbers), with two simplifications: timestamps are decimal strings (they exceed 2^53) and every
 * other 64-bit integer is a number (counts and values in tests are small).
 *
 * Written here rather than taken from a package: the installed `@opentelemetry/otlp-transformer` only encodes
 * requests (its reader decodes responses), and the messages a receiver needs are few. Field numbers are those of
 * opentelemetry-proto (common/v1, resource/v1, trace/v1, metrics/v1, collector/*).
 */

type Scalar =
  | 'string'
  | 'bytes' // base64 text, as OTLP/JSON writes bytes
  | 'id' // trace or span id: lowercase hex, as OTLP/JSON writes them
  | 'bool'
  | 'varint' // uint32, int32, int64, enums: a number
  | 'sint32'
  | 'fixed32'
  | 'time' // fixed64 nanoseconds: a decimal string
  | 'fixed64'
  | 'sfixed64'
  | 'double';

interface Field {
  readonly name: string;
  /** A scalar type, or the name of a message in `Messages`. */
  readonly type: Scalar | string;
  readonly repeated?: boolean;
}

const f = (name: string, type: Field['type'], repeated = false): Field => ({ name, type, repeated });

const Messages = {
  ExportTraceServiceRequest: { 1: f('resourceSpans', 'ResourceSpans', true) },
  ExportMetricsServiceRequest: { 1: f('resourceMetrics', 'ResourceMetrics', true) },
  Resource: { 1: f('attributes', 'KeyValue', true), 2: f('droppedAttributesCount', 'varint') },
  InstrumentationScope: {
    1: f('name', 'string'),
    2: f('version', 'string'),
    3: f('attributes', 'KeyValue', true),
    4: f('droppedAttributesCount', 'varint'),
  },
  KeyValue: { 1: f('key', 'string'), 2: f('value', 'AnyValue') },
  AnyValue: {
    1: f('stringValue', 'string'),
    2: f('boolValue', 'bool'),
    3: f('intValue', 'varint'),
    4: f('doubleValue', 'double'),
    5: f('arrayValue', 'ArrayValue'),
    6: f('kvlistValue', 'KeyValueList'),
    7: f('bytesValue', 'bytes'),
  },
  ArrayValue: { 1: f('values', 'AnyValue', true) },
  KeyValueList: { 1: f('values', 'KeyValue', true) },
  ResourceSpans: {
    1: f('resource', 'Resource'),
    2: f('scopeSpans', 'ScopeSpans', true),
    3: f('schemaUrl', 'string'),
  },
  ScopeSpans: {
    1: f('scope', 'InstrumentationScope'),
    2: f('spans', 'Span', true),
    3: f('schemaUrl', 'string'),
  },
  Span: {
    1: f('traceId', 'id'),
    2: f('spanId', 'id'),
    3: f('traceState', 'string'),
    4: f('parentSpanId', 'id'),
    5: f('name', 'string'),
    6: f('kind', 'varint'),
    7: f('startTimeUnixNano', 'time'),
    8: f('endTimeUnixNano', 'time'),
    9: f('attributes', 'KeyValue', true),
    10: f('droppedAttributesCount', 'varint'),
    11: f('events', 'SpanEvent', true),
    12: f('droppedEventsCount', 'varint'),
    13: f('links', 'SpanLink', true),
    14: f('droppedLinksCount', 'varint'),
    15: f('status', 'Status'),
    16: f('flags', 'fixed32'),
  },
  SpanEvent: {
    1: f('timeUnixNano', 'time'),
    2: f('name', 'string'),
    3: f('attributes', 'KeyValue', true),
    4: f('droppedAttributesCount', 'varint'),
  },
  SpanLink: {
    1: f('traceId', 'id'),
    2: f('spanId', 'id'),
    3: f('traceState', 'string'),
    4: f('attributes', 'KeyValue', true),
    5: f('droppedAttributesCount', 'varint'),
    6: f('flags', 'fixed32'),
  },
  Status: { 2: f('message', 'string'), 3: f('code', 'varint') },
  ResourceMetrics: {
    1: f('resource', 'Resource'),
    2: f('scopeMetrics', 'ScopeMetrics', true),
    3: f('schemaUrl', 'string'),
  },
  ScopeMetrics: {
    1: f('scope', 'InstrumentationScope'),
    2: f('metrics', 'Metric', true),
    3: f('schemaUrl', 'string'),
  },
  Metric: {
    1: f('name', 'string'),
    2: f('description', 'string'),
    3: f('unit', 'string'),
    5: f('gauge', 'Gauge'),
    7: f('sum', 'Sum'),
    9: f('histogram', 'Histogram'),
    10: f('exponentialHistogram', 'ExponentialHistogram'),
    11: f('summary', 'Summary'),
    12: f('metadata', 'KeyValue', true),
  },
  Gauge: { 1: f('dataPoints', 'NumberDataPoint', true) },
  Sum: {
    1: f('dataPoints', 'NumberDataPoint', true),
    2: f('aggregationTemporality', 'varint'),
    3: f('isMonotonic', 'bool'),
  },
  Histogram: { 1: f('dataPoints', 'HistogramDataPoint', true), 2: f('aggregationTemporality', 'varint') },
  ExponentialHistogram: {
    1: f('dataPoints', 'ExponentialHistogramDataPoint', true),
    2: f('aggregationTemporality', 'varint'),
  },
  Summary: { 1: f('dataPoints', 'SummaryDataPoint', true) },
  NumberDataPoint: {
    2: f('startTimeUnixNano', 'time'),
    3: f('timeUnixNano', 'time'),
    4: f('asDouble', 'double'),
    6: f('asInt', 'sfixed64'),
    7: f('attributes', 'KeyValue', true),
    8: f('flags', 'varint'),
  },
  HistogramDataPoint: {
    2: f('startTimeUnixNano', 'time'),
    3: f('timeUnixNano', 'time'),
    4: f('count', 'fixed64'),
    5: f('sum', 'double'),
    6: f('bucketCounts', 'fixed64', true),
    7: f('explicitBounds', 'double', true),
    9: f('attributes', 'KeyValue', true),
    10: f('flags', 'varint'),
    11: f('min', 'double'),
    12: f('max', 'double'),
  },
  ExponentialHistogramDataPoint: {
    1: f('attributes', 'KeyValue', true),
    2: f('startTimeUnixNano', 'time'),
    3: f('timeUnixNano', 'time'),
    4: f('count', 'fixed64'),
    5: f('sum', 'double'),
    6: f('scale', 'sint32'),
    7: f('zeroCount', 'fixed64'),
    8: f('positive', 'Buckets'),
    9: f('negative', 'Buckets'),
    10: f('flags', 'varint'),
    12: f('min', 'double'),
    13: f('max', 'double'),
    14: f('zeroThreshold', 'double'),
  },
  Buckets: { 1: f('offset', 'sint32'), 2: f('bucketCounts', 'varint', true) },
  SummaryDataPoint: {
    2: f('startTimeUnixNano', 'time'),
    3: f('timeUnixNano', 'time'),
    4: f('count', 'fixed64'),
    5: f('sum', 'double'),
    7: f('attributes', 'KeyValue', true),
    8: f('flags', 'varint'),
  },
} as const satisfies Record<string, Record<number, Field>>;

export type MessageName = keyof typeof Messages;

/** A decoded message: field names as in OTLP/JSON. */
export type Decoded = { [field: string]: unknown };

/** The error for input that is not a well-formed message: the receiver answers 400 with its message. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

// ---------------------------------------------------------------------------------------------------------------
// Protobuf

/** A cursor over protobuf bytes; every read checks the bounds. */
class Reader {
  pos = 0;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new OtlpDecodeError(`truncated message at byte ${this.pos}`);
  }

  /** A varint as a bigint (64 bits at most). */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1);
      const byte = this.buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    this.need(length);
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.fixed64();
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.fixed32();
    else throw new OtlpDecodeError(`unsupported wire type ${wireType} at byte ${this.pos}`);
  }
}

const WireType: Record<Scalar, number> = {
  string: 2,
  bytes: 2,
  id: 2,
  bool: 0,
  varint: 0,
  sint32: 0,
  fixed32: 5,
  time: 1,
  fixed64: 1,
  sfixed64: 1,
  double: 1,
};

const isScalar = (type: Field['type']): type is Scalar => Object.hasOwn(WireType, type);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readScalar(reader: Reader, type: Scalar): unknown {
  switch (type) {
    case 'string':
      try {
        return utf8.decode(reader.bytes());
      } catch {
        throw new OtlpDecodeError(`a string field is not UTF-8 (byte ${reader.pos})`);
      }
    case 'bytes':
      return Buffer.from(reader.bytes()).toString('base64');
    case 'id':
      return Buffer.from(reader.bytes()).toString('hex');
    case 'bool':
      return reader.varint() !== 0n;
    case 'varint':
      return Number(BigInt.asIntN(64, reader.varint()));
    case 'sint32': {
      const n = Number(reader.varint() & 0xffffffffn);
      return (n >>> 1) ^ -(n & 1);
    }
    case 'fixed32':
      return reader.fixed32();
    case 'time':
      return reader.fixed64().toString();
    case 'fixed64':
      return Number(reader.fixed64());
    case 'sfixed64':
      return Number(BigInt.asIntN(64, reader.fixed64()));
    case 'double':
      return reader.double();
  }
}

const MaxDepth = 32;

function decodeMessage(bytes: Uint8Array, name: MessageName, depth: number): Decoded {
  if (depth > MaxDepth) throw new OtlpDecodeError(`messages nested deeper than ${MaxDepth}`);
  const fields: Record<number, Field> = Messages[name];
  const out: Decoded = {};
  const reader = new Reader(bytes);
  while (!reader.done) {
    const tag = Number(reader.varint());
    const number = tag >>> 3;
    const wireType = tag & 7;
    const field = fields[number];
    if (number === 0) throw new OtlpDecodeError(`field number 0 at byte ${reader.pos}`);
    if (field === undefined) {
      reader.skip(wireType);
      continue;
    }
    const { type } = field;
    let values: unknown[];
    if (!isScalar(type)) {
      if (wireType !== 2)
        throw new OtlpDecodeError(`${name}.${field.name}: wire type ${wireType}, expected 2`);
      values = [decodeMessage(reader.bytes(), type as MessageName, depth + 1)];
    } else if (wireType === WireType[type]) {
      values = [readScalar(reader, type)];
    } else if (field.repeated && wireType === 2 && WireType[type] !== 2) {
      // A packed repeated scalar (proto3's default for repeated numbers).
      const packed = new Reader(reader.bytes());
      values = [];
      while (!packed.done) values.push(readScalar(packed, type));
    } else {
      throw new OtlpDecodeError(`${name}.${field.name}: wire type ${wireType}, expected ${WireType[type]}`);
    }
    if (field.repeated) {
      const list = (out[field.name] as unknown[] | undefined) ?? [];
      list.push(...values);
      out[field.name] = list;
    } else {
      out[field.name] = values[0];
    }
  }
  return out;
}

/** Decodes a protobuf `ExportTraceServiceRequest` or `ExportMetricsServiceRequest`. */
export function decodeProtobuf(bytes: Uint8Array, name: MessageName): Decoded {
  return decodeMessage(bytes, name, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// OTLP/JSON

function jsonScalar(value: unknown, type: Scalar, where: string): unknown {
  const fail = (): never => {
    throw new OtlpDecodeError(`${where}: ${JSON.stringify(value)} is not a valid ${type}`);
  };
  switch (type) {
    case 'string':
    case 'bytes':
      return typeof value === 'string' ? value : fail();
    case 'id':
      return typeof value === 'string' && /^(?:[0-9a-fA-F]{2})*$/.test(value) ? value.toLowerCase() : fail();
    case 'bool':
      return typeof value === 'boolean' ? value : fail();
    case 'time':
      if (typeof value === 'string' && /^\d+$/.test(value)) return value;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
      return fail();
    default: {
      // Numbers: OTLP/JSON may write 64-bit integers as strings.
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && !Number.isNaN(n) ? n : fail();
    }
  }
}

function jsonMessage(value: unknown, name: MessageName, where: string, depth: number): Decoded {
  if (depth > MaxDepth) throw new OtlpDecodeError(`messages nested deeper than ${MaxDepth}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpDecodeError(`${where}: expected an object`);
  }
  const fields = Object.values(Messages[name] as Record<number, Field>);
  const out: Decoded = {};
  for (const [key, item] of Object.entries(value)) {
    // Receivers accept the proto field names as well as lowerCamelCase.
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const field = fields.find((candidate) => candidate.name === camel);
    if (field === undefined || item === null) continue;
    const at = `${where}.${field.name}`;
    const one = (v: unknown, i?: number): unknown => {
      const path = i === undefined ? at : `${at}[${i}]`;
      return isScalar(field.type)
        ? jsonScalar(v, field.type, path)
        : jsonMessage(v, field.type as MessageName, path, depth + 1);
    };
    if (field.repeated) {
      if (!Array.isArray(item)) throw new OtlpDecodeError(`${at}: expected an array`);
      out[field.name] = item.map((v, i) => one(v, i));
    } else {
      out[field.name] = one(item);
    }
  }
  return out;
}

/** Decodes an OTLP/JSON `ExportTraceServiceRequest` or `ExportMetricsServiceRequest`. */
export function decodeJson(text: string, name: MessageName): Decoded {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`not JSON: ${(err as Error).message}`);
  }
  return jsonMessage(parsed, name, name, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Flattening, for assertions

/** An attribute list (`KeyValue[]`) as a record of plain values. */
export function attributesOf(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of (list as Decoded[] | undefined) ?? []) out[kv.key as string] = plainValue(kv.value);
  return out;
}

/** An `AnyValue` as a plain value: string, boolean, number, array or record. */
export function plainValue(value: unknown): unknown {
  const v = (value ?? {}) as Decoded;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return v.intValue;
  if ('doubleValue' in v) return v.doubleValue;
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return (((v.arrayValue as Decoded).values as unknown[]) ?? []).map(plainValue);
  if ('kvlistValue' in v) return attributesOf((v.kvlistValue as Decoded).values);
  return undefined;
}
