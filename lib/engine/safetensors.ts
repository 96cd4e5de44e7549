/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to { dtype, shape, data_offsets }, then the raw little-endian bytes.
 * Floating tensors are widened to Float32Array on read (F32, BF16, F16, F64); integer tensors
 * become Int32Array/number-valued arrays; float32 or bfloat16 is written. Only what the engine
 * needs: no memory mapping.
 */
import fs from "node:fs";

export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "U8" | "BOOL";

export interface FloatTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array;
}

export interface IntTensor {
  dtype: "I64" | "I32" | "U8" | "BOOL";
  shape: number[];
  data: Int32Array;
}

export type Tensor = FloatTensor | IntTensor;

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, BOOL: 1 };

/** Parses the header only (names, dtypes, shapes) without converting any data. */
export function readSafetensorsHeader(bytes: Uint8Array): {
  entries: Record<string, HeaderEntry>;
  dataStart: number;
  metadata: Record<string, string>;
} {
  if (bytes.byteLength < 8) throw new Error("safetensors: file shorter than its 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) throw new Error("safetensors: header length exceeds file size");
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  const metadata = (json.__metadata__ ?? {}) as Record<string, string>;
  delete json.__metadata__;
  return { entries: json as Record<string, HeaderEntry>, dataStart: 8 + headerLen, metadata };
}

/** Reads every tensor of a .safetensors file. */
export function readSafetensors(path: string): Map<string, Tensor> {
  const bytes = fs.readFileSync(path);
  const { entries, dataStart } = readSafetensorsHeader(bytes);
  const out = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(entries)) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    if (BYTES[e.dtype] === undefined) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${e.dtype}`);
    if (end - begin !== count * BYTES[e.dtype])
      throw new Error(`safetensors: tensor ${name} has ${end - begin} bytes for shape [${e.shape}] of ${e.dtype}`);
    // Copy into a fresh, aligned buffer: offsets in the file need not be multiples of 4.
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, decode(e.dtype, e.shape, raw.buffer, count));
  }
  return out;
}

function decode(dtype: SafetensorsDtype, shape: number[], buffer: ArrayBuffer, count: number): Tensor {
  switch (dtype) {
    case "F32":
      return { dtype, shape, data: new Float32Array(buffer, 0, count) };
    case "F64":
      return { dtype, shape, data: Float32Array.from(new Float64Array(buffer, 0, count)) };
    case "BF16": {
      const src = new Uint16Array(buffer, 0, count);
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
      return { dtype, shape, data: new Float32Array(bits.buffer) };
    }
    case "F16": {
      const src = new Uint16Array(buffer, 0, count);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = halfToFloat(src[i]);
      return { dtype, shape, data };
    }
    case "I64": {
      const src = new BigInt64Array(buffer, 0, count);
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = Number(src[i]);
      return { dtype, shape, data };
    }
    case "I32":
      return { dtype, shape, data: new Int32Array(buffer, 0, count) };
    case "U8":
    case "BOOL":
      return { dtype, shape, data: Int32Array.from(new Uint8Array(buffer, 0, count)) };
    default: {
      const unknown: never = dtype;
      throw new Error(`safetensors: unsupported dtype ${String(unknown)}`);
    }
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
  /** Stored dtype: F32 (default) or BF16 (rounded to nearest, ties to even). */
  dtype?: "F32" | "BF16";
}

/** float32 → bfloat16 bits, round to nearest even (NaN stays a quiet NaN), as torch converts. */
export function toBfloat16Bits(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) out[i] = (b >>> 16) | 0x0040;
    else out[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** Writes float tensors (float32, or bfloat16 where asked), in the order given, with an optional string metadata map. */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> = { format: "pt" },
): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`safetensors: tensor ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const dtype = t.dtype ?? "F32";
    const bytes =
      dtype === "BF16"
        ? new Uint8Array(toBfloat16Bits(t.data).buffer)
        : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    payloads.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so that the data starts 8-byte aligned, as the reference writer does.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += " ";
  const headerBytes = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const bytes of payloads) {
    out.set(bytes, pos);
    pos += bytes.byteLength;
  }
  fs.writeFileSync(path, out);
}
