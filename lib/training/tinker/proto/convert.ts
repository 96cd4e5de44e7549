/**
 * Tinker's protobuf messages ↔ the JSON wire shapes in wire.ts, so the server and client handle
 * one shape whichever encoding carried it. Numbers travel as little-endian typed-array bytes:
 * tokens int32, float tensors float32, integer tensors int64, datum offsets int64 byte offsets.
 * Absent prompt log-probs (position 0) are NaN in the bytes and null in JSON; an empty top-k slot
 * is token 0 with log-prob MASK_LOGPROB, as the SDK reads it.
 */
import type { WireDatum, WireForwardBackwardOutput, WireSampleResponse, WireTensor } from "../wire";
import * as pb from "./messages";

/** The SDK's marker for an unused top-k slot. */
export const MASK_LOGPROB = -99999.0;

/** A proto forward_backward body in the JSON body's shape (`forward_only` marks a forward pass). */
export interface WireForwardBackwardBody {
  model_id: string;
  seq_id: number;
  forward_backward_input: { data: WireDatum[]; loss_fn: string; loss_fn_config: Record<string, number> | null };
  forward_only: boolean;
}

// Typed-array views need aligned offsets; a field inside a message rarely is, so copy first.
// (new Uint8Array(view) copies; a Node Buffer's slice() would not, and .buffer would be its pool.)
const aligned = (bytes: Uint8Array) => new Uint8Array(bytes).buffer;
const asBytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

function checkWhole(bytes: Uint8Array, width: number, what: string): void {
  if (bytes.length % width !== 0)
    throw new Error(`${what}: ${bytes.length} bytes is not a whole number of ${width}-byte values`);
}

const int32s = (bytes: Uint8Array, what: string) => (
  checkWhole(bytes, 4, what), Array.from(new Int32Array(aligned(bytes)))
);
const float32s = (bytes: Uint8Array, what: string) => (
  checkWhole(bytes, 4, what), Array.from(new Float32Array(aligned(bytes)))
);
const int64s = (bytes: Uint8Array, what: string) => (
  checkWhole(bytes, 8, what), Array.from(new BigInt64Array(aligned(bytes)), Number)
);

function numbers(bytes: Uint8Array, dtype: pb.DType, what: string): number[] {
  switch (dtype) {
    case pb.DType.Float32:
      return float32s(bytes, what);
    case pb.DType.Int64:
      return int64s(bytes, what);
    case pb.DType.Int32:
      return int32s(bytes, what);
    case pb.DType.BFloat16: {
      checkWhole(bytes, 2, what);
      const halves = new Uint16Array(aligned(bytes));
      // bfloat16 is the upper half of a float32.
      return Array.from(new Float32Array(Uint32Array.from(halves, (h) => h << 16).buffer));
    }
    default:
      throw new Error(`${what}: unsupported dtype ${dtype}`);
  }
}

const wireDtype = (dtype: pb.DType): WireTensor["dtype"] =>
  dtype === pb.DType.Int64 || dtype === pb.DType.Int32 ? "int64" : "float32";

function tensorFromProto(t: pb.Tensor, what: string): WireTensor {
  const shape = t.shape.length > 0 ? t.shape : undefined;
  if (t.sparseCsr) {
    // CSR of a (rows, cols) matrix: row r's entries are values[crow[r]..crow[r+1]) at columns col[...].
    if (t.shape.length !== 2)
      throw new Error(`${what}: a sparse tensor needs a 2-D shape, got [${t.shape.join(", ")}]`);
    const [rows, cols] = t.shape as [number, number];
    const values = numbers(t.sparseCsr.values, t.dtype, `${what}.values`);
    const crow = int64s(t.sparseCsr.crowIndices, `${what}.crow_indices`);
    const col = int64s(t.sparseCsr.colIndices, `${what}.col_indices`);
    if (crow.length !== rows + 1 || col.length !== values.length)
      throw new Error(`${what}: CSR indices do not match the shape and values`);
    const dense = new Array<number>(rows * cols).fill(0);
    for (let r = 0; r < rows; r++) {
      for (let i = crow[r]!; i < crow[r + 1]!; i++) {
        const c = col[i]!;
        if (!(c >= 0 && c < cols)) throw new Error(`${what}: column ${c} outside [0, ${cols})`);
        dense[r * cols + c] = values[i]!;
      }
    }
    return { data: dense, dtype: wireDtype(t.dtype), shape: t.shape };
  }
  const data = numbers(t.dense ?? new Uint8Array(), t.dtype, what);
  return { data, dtype: wireDtype(t.dtype), ...(shape ? { shape } : {}) };
}

export function forwardBackwardBodyFromProto(bytes: Uint8Array): WireForwardBackwardBody {
  const req = pb.decodeForwardBackwardRequest(bytes);
  const data = req.data.map(
    (datum, i): WireDatum => ({
      model_input: {
        chunks: datum.modelInput.map((chunk) => {
          if (chunk.kind !== "encoded_text")
            throw new Error(`datum ${i}: model_input chunk type "${chunk.kind}" is not supported`);
          return { type: "encoded_text" as const, tokens: int32s(chunk.tokens, `datum ${i} tokens`) };
        }),
      },
      loss_fn_inputs: Object.fromEntries(
        Object.entries(datum.lossFnInputs).map(([name, t]) => [
          name,
          tensorFromProto(t, `datum ${i}: loss_fn_inputs.${name}`),
        ]),
      ),
    }),
  );
  const config = Object.keys(req.lossFnConfig).length > 0 ? req.lossFnConfig : null;
  return {
    model_id: req.modelId,
    seq_id: req.seqId,
    forward_backward_input: { data, loss_fn: req.lossFn, loss_fn_config: config },
    forward_only: req.forwardOnly,
  };
}

function tensorToProto(t: WireTensor): pb.Tensor {
  const dense =
    t.dtype === "int64" ? asBytes(BigInt64Array.from(t.data, (v) => BigInt(v))) : asBytes(Float32Array.from(t.data));
  return { dtype: t.dtype === "int64" ? pb.DType.Int64 : pb.DType.Float32, shape: t.shape ?? [t.data.length], dense };
}

export function forwardBackwardBodyToProto(body: WireForwardBackwardBody): Uint8Array {
  return pb.encodeForwardBackwardRequest({
    modelId: body.model_id,
    seqId: body.seq_id,
    lossFn: body.forward_backward_input.loss_fn,
    lossFnConfig: body.forward_backward_input.loss_fn_config ?? {},
    forwardOnly: body.forward_only,
    data: body.forward_backward_input.data.map((d) => ({
      modelInput: d.model_input.chunks.map((c) => ({
        kind: "encoded_text" as const,
        tokens: asBytes(Int32Array.from(c.tokens)),
      })),
      lossFnInputs: Object.fromEntries(Object.entries(d.loss_fn_inputs).map(([name, t]) => [name, tensorToProto(t)])),
    })),
  });
}

/**
 * One ArrayRecord holding every datum: each output field concatenated as float32, with n + 1
 * byte offsets bounding the datums (the SDK slices by them and reshapes to (len, ...trailing)).
 */
export function forwardBackwardOutputToProto(out: WireForwardBackwardOutput): Uint8Array {
  const names = [...new Set(out.loss_fn_outputs.flatMap((record) => Object.keys(record)))];
  const fields: Record<string, pb.BatchedTensor> = {};
  for (const name of names) {
    const perDatum = out.loss_fn_outputs.map((record) => record[name]?.data ?? []);
    const offsets = new BigInt64Array(perDatum.length + 1);
    for (const [i, values] of perDatum.entries()) offsets[i + 1] = offsets[i]! + BigInt(values.length * 4);
    fields[name] = {
      data: asBytes(Float32Array.from(perDatum.flat())),
      offsets: asBytes(offsets),
      dtype: pb.DType.Float32,
      trailingShape: [],
    };
  }
  return pb.encodeForwardBackwardOutput({
    lossFnOutputType: out.loss_fn_output_type ?? "ArrayRecord",
    lossFnOutputs:
      out.loss_fn_outputs.length > 0 ? [{ typeTag: "ArrayRecord", fields, numDatums: out.loss_fn_outputs.length }] : [],
    metrics: out.metrics,
  });
}

export function forwardBackwardOutputFromProto(bytes: Uint8Array): WireForwardBackwardOutput {
  const out = pb.decodeForwardBackwardOutput(bytes);
  const records: Array<Record<string, WireTensor>> = [];
  for (const record of out.lossFnOutputs) {
    const first = records.length;
    for (const [name, bt] of Object.entries(record.fields)) {
      const values = numbers(bt.data, bt.dtype, `loss_fn_outputs.${name}`);
      const offsets = int64s(bt.offsets, `loss_fn_outputs.${name}.offsets`);
      const width = bt.dtype === pb.DType.Int64 ? 8 : bt.dtype === pb.DType.BFloat16 ? 2 : 4;
      const trailing = bt.trailingShape.reduce((a, b) => a * b, 1);
      for (let i = 0; i + 1 < offsets.length; i++) {
        const data = values.slice(offsets[i]! / width, offsets[i + 1]! / width);
        records[first + i] ??= {};
        records[first + i]![name] = {
          data,
          dtype: wireDtype(bt.dtype),
          shape: [trailing ? data.length / trailing : 0, ...bt.trailingShape],
        };
      }
    }
    // A record whose fields were all filtered out still counts its datums.
    for (let i = records.length; i < first + record.numDatums; i++) records[i] = {};
  }
  return {
    loss_fn_output_type: out.lossFnOutputType.split(":").pop() || "ArrayRecord",
    loss_fn_outputs: records,
    metrics: out.metrics,
  };
}

export function sampleResponseToProto(res: WireSampleResponse): Uint8Array {
  const proto: pb.SampleResponse = {
    sequences: res.sequences.map((seq) => ({
      stopReason: seq.stop_reason === "length" ? pb.StopReasonCode.Length : pb.StopReasonCode.Stop,
      tokens: asBytes(Int32Array.from(seq.tokens)),
      ...(seq.logprobs ? { logprobs: asBytes(Float32Array.from(seq.logprobs)) } : {}),
    })),
    promptCacheHitTokens: 0,
  };
  if (res.prompt_logprobs) proto.promptLogprobs = asBytes(Float32Array.from(res.prompt_logprobs, (v) => v ?? NaN));
  const topk = res.topk_prompt_logprobs;
  if (topk) {
    const k = Math.max(0, ...topk.map((row) => row?.length ?? 0));
    const ids = new Int32Array(topk.length * k);
    const logprobs = new Float32Array(topk.length * k).fill(MASK_LOGPROB);
    for (const [i, row] of topk.entries()) {
      for (const [j, [id, lp]] of (row ?? []).entries()) {
        ids[i * k + j] = id;
        logprobs[i * k + j] = lp;
      }
    }
    proto.topkPromptLogprobs = { tokenIds: asBytes(ids), logprobs: asBytes(logprobs), k, promptLength: topk.length };
  }
  return pb.encodeSampleResponse(proto);
}

export function sampleResponseFromProto(bytes: Uint8Array): WireSampleResponse {
  const res = pb.decodeSampleResponse(bytes);
  const wire: WireSampleResponse = {
    type: "sample",
    sequences: res.sequences.map((seq) => ({
      stop_reason: seq.stopReason === pb.StopReasonCode.Length ? "length" : "stop",
      tokens: int32s(seq.tokens, "sequence tokens"),
      logprobs: seq.logprobs ? float32s(seq.logprobs, "sequence logprobs") : null,
    })),
  };
  if (res.promptLogprobs)
    wire.prompt_logprobs = float32s(res.promptLogprobs, "prompt_logprobs").map((v) => (Number.isNaN(v) ? null : v));
  const topk = res.topkPromptLogprobs;
  if (topk && topk.k > 0) {
    const ids = int32s(topk.tokenIds, "topk token_ids");
    const lps = float32s(topk.logprobs, "topk logprobs");
    wire.topk_prompt_logprobs = Array.from({ length: topk.promptLength }, (_, i) => {
      const row: Array<[number, number]> = [];
      for (let j = 0; j < topk.k; j++) {
        const id = ids[i * topk.k + j]!;
        const lp = lps[i * topk.k + j]!;
        if (!(id === 0 && lp === MASK_LOGPROB)) row.push([id, lp]);
      }
      return row.length > 0 ? row : null;
    });
  }
  return wire;
}
