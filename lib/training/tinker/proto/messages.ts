/**
 * Tinker's public protobuf messages (package `tinker_public`), the ones the SDK sends and reads:
 * ForwardBackwardRequest (forward_backward and forward-only), ForwardBackwardOutput and
 * SampleResponse. Field numbers are those of the SDK's tinker_public.proto. Tensors travel as raw
 * little-endian bytes (tokens as int32, loss inputs as float32/int64); proto/convert.ts turns
 * them into numbers. Proto3 rules apply: a scalar at its default is not written, an `optional`
 * one is written whenever it is set.
 */
import { ProtoDecodeError, ProtoReader, ProtoWriter, read, type ProtoField } from "./wire-format";

export enum DType {
  Unspecified = 0,
  Float32 = 1,
  Int64 = 2,
  Int32 = 3,
  BFloat16 = 4,
}

export enum StopReasonCode {
  Stop = 0,
  Length = 1,
}

export interface SparseCsr {
  values: Uint8Array;
  crowIndices: Uint8Array;
  colIndices: Uint8Array;
}

/** `encoding` is a oneof: dense bytes or a CSR matrix. */
export interface Tensor {
  dtype: DType;
  shape: number[];
  dense?: Uint8Array;
  sparseCsr?: SparseCsr;
}

export type Chunk =
  | { kind: "encoded_text"; tokens: Uint8Array }
  | { kind: "image"; data: Uint8Array; format: string; expectedTokens?: number }
  | { kind: "dmel"; dmel: Uint8Array };

export interface Datum {
  modelInput: Chunk[];
  lossFnInputs: Record<string, Tensor>;
}

export interface ForwardBackwardRequest {
  modelId: string;
  seqId: number;
  data: Datum[];
  lossFn: string;
  lossFnConfig: Record<string, number>;
  forwardOnly: boolean;
}

/** One field of every datum in a record, concatenated; `offsets` (int64 bytes) bound each datum's slice. */
export interface BatchedTensor {
  data: Uint8Array;
  offsets: Uint8Array;
  dtype: DType;
  trailingShape: number[];
}

export interface ArrayRecord {
  typeTag: string;
  fields: Record<string, BatchedTensor>;
  numDatums: number;
}

export interface ForwardBackwardOutput {
  lossFnOutputType: string;
  lossFnOutputs: ArrayRecord[];
  metrics: Record<string, number>;
}

export interface SampledSequence {
  stopReason: StopReasonCode;
  tokens: Uint8Array;
  logprobs?: Uint8Array;
}

export interface TopkPromptLogprobs {
  tokenIds: Uint8Array;
  logprobs: Uint8Array;
  k: number;
  promptLength: number;
}

export interface SampleResponse {
  sequences: SampledSequence[];
  promptLogprobs?: Uint8Array;
  topkPromptLogprobs?: TopkPromptLogprobs;
  promptCacheHitTokens: number;
}

// ── encoders ────────────────────────────────────────────────────────────────

const writeIf = {
  string: (w: ProtoWriter, field: number, v: string) => v !== "" && w.string(field, v),
  bytes: (w: ProtoWriter, field: number, v: Uint8Array) => v.length > 0 && w.bytes(field, v),
  varint: (w: ProtoWriter, field: number, v: number | boolean) => v !== 0 && v !== false && w.varint(field, v),
};

function writeStringDoubleMap(w: ProtoWriter, field: number, map: Record<string, number>): void {
  for (const [key, value] of Object.entries(map)) w.message(field, (e) => e.string(1, key).double(2, value));
}

function writeTensor(w: ProtoWriter, t: Tensor): void {
  if (t.dense) w.bytes(1, t.dense);
  else if (t.sparseCsr) {
    const csr = t.sparseCsr;
    w.message(2, (m) => {
      writeIf.bytes(m, 1, csr.values);
      writeIf.bytes(m, 2, csr.crowIndices);
      writeIf.bytes(m, 3, csr.colIndices);
    });
  }
  writeIf.varint(w, 3, t.dtype);
  w.packedVarints(4, t.shape);
}

function writeChunk(w: ProtoWriter, c: Chunk): void {
  switch (c.kind) {
    case "encoded_text":
      w.message(1, (m) => writeIf.bytes(m, 1, c.tokens));
      return;
    case "image":
      w.message(2, (m) => {
        writeIf.bytes(m, 1, c.data);
        writeIf.string(m, 2, c.format);
        if (c.expectedTokens !== undefined) m.varint(3, c.expectedTokens);
      });
      return;
    case "dmel":
      w.message(3, (m) => writeIf.bytes(m, 1, c.dmel));
      return;
    default: {
      const unreachable: never = c;
      throw new Error(`unknown chunk ${JSON.stringify(unreachable)}`);
    }
  }
}

export function encodeForwardBackwardRequest(req: ForwardBackwardRequest): Uint8Array {
  const w = new ProtoWriter();
  writeIf.string(w, 1, req.modelId);
  writeIf.varint(w, 2, req.seqId);
  for (const datum of req.data) {
    w.message(3, (d) => {
      for (const chunk of datum.modelInput) d.message(1, (c) => writeChunk(c, chunk));
      for (const [name, tensor] of Object.entries(datum.lossFnInputs)) {
        d.message(2, (e) => e.string(1, name).message(2, (t) => writeTensor(t, tensor)));
      }
    });
  }
  writeIf.string(w, 4, req.lossFn);
  writeStringDoubleMap(w, 5, req.lossFnConfig);
  writeIf.varint(w, 6, req.forwardOnly);
  return w.finish();
}

export function encodeForwardBackwardOutput(out: ForwardBackwardOutput): Uint8Array {
  const w = new ProtoWriter();
  writeIf.string(w, 1, out.lossFnOutputType);
  for (const record of out.lossFnOutputs) {
    w.message(2, (r) => {
      writeIf.string(r, 1, record.typeTag);
      for (const [name, bt] of Object.entries(record.fields)) {
        r.message(2, (e) =>
          e.string(1, name).message(2, (b) => {
            writeIf.bytes(b, 1, bt.data);
            writeIf.bytes(b, 2, bt.offsets);
            writeIf.varint(b, 3, bt.dtype);
            b.packedVarints(4, bt.trailingShape);
          }),
        );
      }
      writeIf.varint(r, 3, record.numDatums);
    });
  }
  writeStringDoubleMap(w, 3, out.metrics);
  return w.finish();
}

export function encodeSampleResponse(res: SampleResponse): Uint8Array {
  const w = new ProtoWriter();
  for (const seq of res.sequences) {
    w.message(1, (s) => {
      writeIf.varint(s, 1, seq.stopReason);
      writeIf.bytes(s, 2, seq.tokens);
      if (seq.logprobs) s.bytes(3, seq.logprobs);
    });
  }
  if (res.promptLogprobs) w.bytes(2, res.promptLogprobs);
  const topk = res.topkPromptLogprobs;
  if (topk) {
    w.message(3, (t) => {
      writeIf.bytes(t, 1, topk.tokenIds);
      writeIf.bytes(t, 2, topk.logprobs);
      writeIf.varint(t, 3, topk.k);
      writeIf.varint(t, 4, topk.promptLength);
    });
  }
  writeIf.varint(w, 4, res.promptCacheHitTokens);
  return w.finish();
}

// ── decoders ────────────────────────────────────────────────────────────────

const fieldsOf = (bytes: Uint8Array) => new ProtoReader(bytes).fields();

/** A map entry is a message with the key at 1 and the value at 2; either may be absent (its default). */
function readMapEntry<V>(bytes: Uint8Array, value: (f: ProtoField) => V, empty: V): [string, V] {
  let key = "";
  let v = empty;
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) key = read.string(f);
    else if (f.field === 2) v = value(f);
  }
  return [key, v];
}

function decodeTensor(bytes: Uint8Array): Tensor {
  const t: Tensor = { dtype: DType.Unspecified, shape: [] };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) {
      t.dense = read.bytes(f);
      delete t.sparseCsr;
    } else if (f.field === 2) {
      const csr: SparseCsr = { values: new Uint8Array(), crowIndices: new Uint8Array(), colIndices: new Uint8Array() };
      for (const g of fieldsOf(read.bytes(f))) {
        if (g.field === 1) csr.values = read.bytes(g);
        else if (g.field === 2) csr.crowIndices = read.bytes(g);
        else if (g.field === 3) csr.colIndices = read.bytes(g);
      }
      t.sparseCsr = csr;
      delete t.dense;
    } else if (f.field === 3) t.dtype = read.int32(f);
    else if (f.field === 4) read.repeatedInt64(f, t.shape);
  }
  return t;
}

function decodeChunk(bytes: Uint8Array): Chunk {
  let chunk: Chunk | undefined;
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) {
      let tokens: Uint8Array = new Uint8Array();
      for (const g of fieldsOf(read.bytes(f))) if (g.field === 1) tokens = read.bytes(g);
      chunk = { kind: "encoded_text", tokens };
    } else if (f.field === 2) {
      const image: Extract<Chunk, { kind: "image" }> = { kind: "image", data: new Uint8Array(), format: "" };
      for (const g of fieldsOf(read.bytes(f))) {
        if (g.field === 1) image.data = read.bytes(g);
        else if (g.field === 2) image.format = read.string(g);
        else if (g.field === 3) image.expectedTokens = read.int32(g);
      }
      chunk = image;
    } else if (f.field === 3) {
      let dmel: Uint8Array = new Uint8Array();
      for (const g of fieldsOf(read.bytes(f))) if (g.field === 1) dmel = read.bytes(g);
      chunk = { kind: "dmel", dmel };
    }
  }
  if (!chunk) throw new ProtoDecodeError("a model_input chunk sets none of encoded_text, image, dmel");
  return chunk;
}

function decodeDatum(bytes: Uint8Array): Datum {
  const datum: Datum = { modelInput: [], lossFnInputs: {} };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) datum.modelInput.push(decodeChunk(read.bytes(f)));
    else if (f.field === 2) {
      const [name, tensor] = readMapEntry(read.bytes(f), (g) => decodeTensor(read.bytes(g)), {
        dtype: DType.Unspecified,
        shape: [],
      } as Tensor);
      datum.lossFnInputs[name] = tensor;
    }
  }
  return datum;
}

export function decodeForwardBackwardRequest(bytes: Uint8Array): ForwardBackwardRequest {
  const req: ForwardBackwardRequest = {
    modelId: "",
    seqId: 0,
    data: [],
    lossFn: "",
    lossFnConfig: {},
    forwardOnly: false,
  };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) req.modelId = read.string(f);
    else if (f.field === 2) req.seqId = read.int32(f);
    else if (f.field === 3) req.data.push(decodeDatum(read.bytes(f)));
    else if (f.field === 4) req.lossFn = read.string(f);
    else if (f.field === 5) {
      const [key, value] = readMapEntry(read.bytes(f), read.double, 0);
      req.lossFnConfig[key] = value;
    } else if (f.field === 6) req.forwardOnly = read.bool(f);
  }
  return req;
}

function decodeBatchedTensor(bytes: Uint8Array): BatchedTensor {
  const bt: BatchedTensor = {
    data: new Uint8Array(),
    offsets: new Uint8Array(),
    dtype: DType.Unspecified,
    trailingShape: [],
  };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) bt.data = read.bytes(f);
    else if (f.field === 2) bt.offsets = read.bytes(f);
    else if (f.field === 3) bt.dtype = read.int32(f);
    else if (f.field === 4) read.repeatedInt64(f, bt.trailingShape);
  }
  return bt;
}

export function decodeForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutput {
  const out: ForwardBackwardOutput = { lossFnOutputType: "", lossFnOutputs: [], metrics: {} };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) out.lossFnOutputType = read.string(f);
    else if (f.field === 2) {
      const record: ArrayRecord = { typeTag: "", fields: {}, numDatums: 0 };
      for (const g of fieldsOf(read.bytes(f))) {
        if (g.field === 1) record.typeTag = read.string(g);
        else if (g.field === 2) {
          const empty = decodeBatchedTensor(new Uint8Array());
          const [name, bt] = readMapEntry(read.bytes(g), (h) => decodeBatchedTensor(read.bytes(h)), empty);
          record.fields[name] = bt;
        } else if (g.field === 3) record.numDatums = read.int64(g);
      }
      out.lossFnOutputs.push(record);
    } else if (f.field === 3) {
      const [key, value] = readMapEntry(read.bytes(f), read.double, 0);
      out.metrics[key] = value;
    }
  }
  return out;
}

export function decodeSampleResponse(bytes: Uint8Array): SampleResponse {
  const res: SampleResponse = { sequences: [], promptCacheHitTokens: 0 };
  for (const f of fieldsOf(bytes)) {
    if (f.field === 1) {
      const seq: SampledSequence = { stopReason: StopReasonCode.Stop, tokens: new Uint8Array() };
      for (const g of fieldsOf(read.bytes(f))) {
        if (g.field === 1) seq.stopReason = read.int32(g);
        else if (g.field === 2) seq.tokens = read.bytes(g);
        else if (g.field === 3) seq.logprobs = read.bytes(g);
      }
      res.sequences.push(seq);
    } else if (f.field === 2) res.promptLogprobs = read.bytes(f);
    else if (f.field === 3) {
      const topk: TopkPromptLogprobs = {
        tokenIds: new Uint8Array(),
        logprobs: new Uint8Array(),
        k: 0,
        promptLength: 0,
      };
      for (const g of fieldsOf(read.bytes(f))) {
        if (g.field === 1) topk.tokenIds = read.bytes(g);
        else if (g.field === 2) topk.logprobs = read.bytes(g);
        else if (g.field === 3) topk.k = read.uint32(g);
        else if (g.field === 4) topk.promptLength = read.uint32(g);
      }
      res.topkPromptLogprobs = topk;
    } else if (f.field === 4) res.promptCacheHitTokens = read.int32(f);
  }
  return res;
}
