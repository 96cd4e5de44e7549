/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to { dtype, shape, data_offsets }, then the raw little-endian bytes.
 * Floating tensors are widened to Float32Array on read (F32, BF16, F16, F64); integer tensors
 * become Int32Array/number-valued arrays; float32 or bfloat16 is written. openSafetensors reads
 * single tensors from an open file into memory the caller provides (model weights go straight into
 * kernel memory, in their stored precision, without the whole file in memory at once).
 */
import fs from "node:fs";
import { halfBitsToNumber } from "./kernels/half";

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
      for (let i = 0; i < count; i++) data[i] = halfBitsToNumber(src[i]);
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

export interface SafetensorsFile {
  readonly path: string;
  readonly entries: Record<string, HeaderEntry>;
  /** Reads a floating tensor into `out` (its length must match), widened to float32. */
  readFloat32(name: string, out: Float32Array): Float32Array;
  /** Reads a BF16 or F16 tensor's bits unchanged into `out`. */
  readBits(name: string, out: Uint16Array): Uint16Array;
  close(): void;
}

/** Largest single read: fs.readSync takes at most 2 GiB at once. */
const READ_CHUNK = 1 << 30;

/** Opens a .safetensors file and parses its header; tensors are read on demand. */
export function openSafetensors(path: string): SafetensorsFile {
  const fd = fs.openSync(path, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, 0);
    const headerLen = size >= 8 ? Number(head.readBigUInt64LE(0)) : Number.POSITIVE_INFINITY;
    if (!(8 + headerLen <= size)) throw new Error(`safetensors: ${path} is shorter than its header says`);
    const headerBytes = Buffer.alloc(8 + headerLen);
    readFully(fd, headerBytes, 0);
    const { entries, dataStart } = readSafetensorsHeader(headerBytes);
    const entry = (name: string, count: number): HeaderEntry => {
      const e = entries[name];
      if (!e) throw new Error(`safetensors: ${path} has no tensor ${name}`);
      const n = e.shape.reduce((x, y) => x * y, 1);
      if (n !== count) throw new Error(`safetensors: tensor ${name} has ${n} values, the caller expects ${count}`);
      const [begin, end] = e.data_offsets;
      if (BYTES[e.dtype] === undefined) throw new Error(`safetensors: tensor ${name} has unsupported dtype ${e.dtype}`);
      if (end - begin !== n * BYTES[e.dtype] || dataStart + end > size)
        throw new Error(`safetensors: tensor ${name} has ${end - begin} bytes for shape [${e.shape}] of ${e.dtype}`);
      return e;
    };
    return {
      path,
      entries,
      readFloat32(name, out) {
        const e = entry(name, out.length);
        const [begin, end] = e.data_offsets;
        if (e.dtype === "F32") {
          readFully(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), dataStart + begin);
          return out;
        }
        const raw = new Uint8Array(end - begin);
        readFully(fd, raw, dataStart + begin);
        const t = decode(e.dtype, e.shape, raw.buffer, out.length);
        if (!(t.data instanceof Float32Array))
          throw new Error(`safetensors: tensor ${name} has integer dtype ${e.dtype}`);
        out.set(t.data);
        return out;
      },
      readBits(name, out) {
        const e = entry(name, out.length);
        if (e.dtype !== "BF16" && e.dtype !== "F16")
          throw new Error(`safetensors: tensor ${name} is ${e.dtype}, not 16-bit floating point`);
        readFully(fd, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), dataStart + e.data_offsets[0]);
        return out;
      },
      close: () => fs.closeSync(fd),
    };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function readFully(fd: number, dst: Uint8Array, position: number): void {
  for (let done = 0; done < dst.byteLength; ) {
    const n = fs.readSync(fd, dst, done, Math.min(READ_CHUNK, dst.byteLength - done), position + done);
    if (n <= 0) throw new Error("safetensors: file ended inside a tensor");
    done += n;
  }
}

export interface TensorToWrite {
  shape: number[];
  /** float32 values, or 16-bit bits written unchanged (dtype must then say BF16 or F16). */
  data: Float32Array | Uint16Array;
  /** Stored dtype: F32 (default) or BF16 (float32 values rounded to nearest, ties to even). */
  dtype?: "F32" | "BF16" | "F16";
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
    let bytes: Uint8Array;
    if (t.data instanceof Uint16Array) {
      if (dtype === "F32") throw new Error(`safetensors: tensor ${name} holds 16-bit bits but is to be written as F32`);
      bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    } else if (dtype === "F16")
      throw new Error(`safetensors: tensor ${name}: float32 values are written as F32 or BF16`);
    else
      bytes =
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
  const head = Buffer.alloc(8 + headerBytes.length);
  head.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(head, 8);
  // Written tensor by tensor: a model's file never has to exist in memory as a whole.
  const fd = fs.openSync(path, "w");
  try {
    writeFully(fd, head);
    for (const bytes of payloads) writeFully(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; ) {
    done += fs.writeSync(fd, bytes, done, Math.min(READ_CHUNK, bytes.byteLength - done));
  }
}
