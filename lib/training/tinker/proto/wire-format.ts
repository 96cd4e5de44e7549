/**
 * The protobuf wire format, as much of it as Tinker's public messages use: varints (int32, int64,
 * uint32, bool, enums), 64-bit doubles, 32-bit floats and length-delimited fields (bytes, strings,
 * sub-messages, packed repeated integers). Field numbers and wire types follow
 * https://protobuf.dev/programming-guides/encoding/. A reader skips fields it does not know, as
 * every protobuf parser does, so a newer peer's extra fields are harmless.
 */

export enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(Math.max(256, n, this.buf.length * 2));
    this.pos = 0;
  }

  private rawVarint(value: bigint): void {
    // Negative int32/int64 values are sent as their 64-bit two's complement: ten bytes.
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private smallVarint(value: number): void {
    // Fast path for the common case (tags, lengths, small non-negative numbers).
    this.reserve(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  private tag(field: number, type: WireType): void {
    this.smallVarint((field << 3) | type);
  }

  private raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** int32, int64, uint32, uint64, bool and enum fields. */
  varint(field: number, value: number | bigint | boolean): this {
    this.tag(field, WireType.Varint);
    const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 32) this.smallVarint(v);
    else this.rawVarint(BigInt(v));
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.Fixed64);
    this.reserve(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, value, true);
    this.pos += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, value, true);
    this.pos += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.smallVarint(value.length);
    this.raw(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A sub-message, written by `build` into its own writer so its length can prefix it. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated int32/int64 (proto3's default for repeated scalars). */
  packedVarints(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) {
      if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) inner.smallVarint(v);
      else inner.rawVarint(BigInt(v));
    }
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const parts = [...this.chunks, this.buf.subarray(0, this.pos)];
    if (parts.length === 1) return parts[0]!.slice();
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export class ProtoDecodeError extends Error {}

/** One field as read: its number, wire type, and the value (a number/bigint or a byte view). */
export type ProtoField =
  | { field: number; type: WireType.Varint; value: bigint }
  | { field: number; type: WireType.Fixed64; value: DataView }
  | { field: number; type: WireType.Fixed32; value: DataView }
  | { field: number; type: WireType.LengthDelimited; value: Uint8Array };

export class ProtoReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new ProtoDecodeError("truncated varint");
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new ProtoDecodeError("varint longer than 10 bytes");
  }

  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length)
      throw new ProtoDecodeError(`field runs past the end (${n} bytes at ${this.pos} of ${this.bytes.length})`);
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  /** The body of a packed repeated varint field. */
  *packedVarints(): Generator<bigint> {
    while (this.pos < this.bytes.length) yield this.varint();
  }

  *fields(): Generator<ProtoField> {
    while (this.pos < this.bytes.length) {
      const key = Number(this.varint());
      const field = key >>> 3;
      const type = key & 7;
      if (field === 0) throw new ProtoDecodeError("field number 0");
      switch (type) {
        case WireType.Varint:
          yield { field, type, value: this.varint() };
          break;
        case WireType.Fixed64: {
          const b = this.take(8);
          yield { field, type, value: new DataView(b.buffer, b.byteOffset, 8) };
          break;
        }
        case WireType.Fixed32: {
          const b = this.take(4);
          yield { field, type, value: new DataView(b.buffer, b.byteOffset, 4) };
          break;
        }
        case WireType.LengthDelimited:
          yield { field, type, value: this.take(Number(this.varint())) };
          break;
        default:
          throw new ProtoDecodeError(`unsupported wire type ${type} (field ${field})`);
      }
    }
  }
}

/** Field readers that check the wire type the schema expects; a mismatch is a malformed message. */
function mismatch(f: ProtoField, expected: WireType): never {
  throw new ProtoDecodeError(`field ${f.field} has wire type ${f.type}, expected ${expected}`);
}
const varintOf = (f: ProtoField): bigint => (f.type === WireType.Varint ? f.value : mismatch(f, WireType.Varint));
const fixed64Of = (f: ProtoField): DataView => (f.type === WireType.Fixed64 ? f.value : mismatch(f, WireType.Fixed64));
const fixed32Of = (f: ProtoField): DataView => (f.type === WireType.Fixed32 ? f.value : mismatch(f, WireType.Fixed32));
const bytesOf = (f: ProtoField): Uint8Array =>
  f.type === WireType.LengthDelimited ? f.value : mismatch(f, WireType.LengthDelimited);

export const read = {
  int32: (f: ProtoField) => Number(BigInt.asIntN(32, varintOf(f))),
  uint32: (f: ProtoField) => Number(BigInt.asUintN(32, varintOf(f))),
  int64: (f: ProtoField) => Number(BigInt.asIntN(64, varintOf(f))),
  uint64: (f: ProtoField) => Number(BigInt.asUintN(64, varintOf(f))),
  bool: (f: ProtoField) => varintOf(f) !== 0n,
  double: (f: ProtoField) => fixed64Of(f).getFloat64(0, true),
  float: (f: ProtoField) => fixed32Of(f).getFloat32(0, true),
  bytes: (f: ProtoField) => bytesOf(f),
  string: (f: ProtoField) => fromUtf8.decode(bytesOf(f)),
  /** Repeated int32/int64: packed (one length-delimited run) or one varint per element; parsers accept both. */
  repeatedInt64: (f: ProtoField, into: number[]) => {
    if (f.type === WireType.Varint) return void into.push(Number(BigInt.asIntN(64, f.value)));
    for (const inner of new ProtoReader(bytesOf(f)).packedVarints()) into.push(Number(BigInt.asIntN(64, inner)));
  },
};
