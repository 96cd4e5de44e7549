/**
 * Our protobuf codec against bytes made by python3-protobuf from the SDK's own generated messages
 * (fixtures/python-protobuf.json, written by scripts/tinker-proto-golden.py): decoding them gives
 * the fields set, and encoding those fields gives the very same bytes.
 */
import { describe, expect, it } from "vitest";
import golden from "./fixtures/python-protobuf.json";
import {
  forwardBackwardBodyFromProto,
  forwardBackwardBodyToProto,
  forwardBackwardOutputFromProto,
  forwardBackwardOutputToProto,
  sampleResponseFromProto,
  sampleResponseToProto,
} from "./convert";
import { decodeForwardBackwardRequest } from "./messages";
import { ProtoDecodeError, ProtoReader, ProtoWriter, read } from "./wire-format";

const bytesOf = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));
const hexOf = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const [fwdBwd, forwardOnly, fwdBwdOutput, sample] = golden.cases;

describe("protobuf codec against the SDK's messages", () => {
  it("reads the SDK's forward_backward request into the JSON body shape", () => {
    const body = forwardBackwardBodyFromProto(bytesOf(fwdBwd!.hex));
    expect(body.model_id).toBe("session-1:train:0");
    expect(body.seq_id).toBe(3);
    expect(body.forward_only).toBe(false);
    expect(body.forward_backward_input.loss_fn).toBe("ppo");
    expect(body.forward_backward_input.loss_fn_config!.clip_low_threshold).toBeCloseTo(0.8, 12);
    expect(body.forward_backward_input.data).toEqual([
      {
        model_input: { chunks: [{ type: "encoded_text", tokens: [1, 2, 3] }] },
        loss_fn_inputs: {
          target_tokens: { data: [2, 3, 4], dtype: "int64", shape: [3] },
          weights: { data: [0, 1, 0.5], dtype: "float32", shape: [3] },
        },
      },
      {
        model_input: { chunks: [{ type: "encoded_text", tokens: [70000, 5] }] },
        loss_fn_inputs: {
          target_tokens: { data: [5, 6], dtype: "int64", shape: [2] },
          weights: { data: [1, -1], dtype: "float32", shape: [2] },
        },
      },
    ]);
  });

  it("reads a request held in a Node Buffer that shares its memory with other bytes", () => {
    // An HTTP body arrives as a Buffer, often a view into a larger pool: only its own bytes count.
    const pool = Buffer.alloc(8192, 0xff);
    const body = Buffer.from(fwdBwd!.hex, "hex");
    body.copy(pool, 1001);
    const view = pool.subarray(1001, 1001 + body.length);
    expect(forwardBackwardBodyFromProto(view)).toEqual(forwardBackwardBodyFromProto(bytesOf(fwdBwd!.hex)));
  });

  it("writes that request to the same bytes python3-protobuf does", () => {
    const body = forwardBackwardBodyFromProto(bytesOf(fwdBwd!.hex));
    expect(hexOf(forwardBackwardBodyToProto(body))).toBe(fwdBwd!.hex);
  });

  it("keeps a NaN loss input as NaN and expands a sparse CSR tensor to its dense rows", () => {
    const body = forwardBackwardBodyFromProto(bytesOf(forwardOnly!.hex));
    expect(body.forward_only).toBe(true);
    const inputs = body.forward_backward_input.data[0]!.loss_fn_inputs;
    expect(inputs.advantages!.data[0]).toBeNaN();
    expect(inputs.advantages!.data[1]).toBe(1.5);
    expect(inputs.teacher_topk_logprobs).toEqual({ data: [0, 0, -0.5, -1.5, 0, 0], dtype: "float32", shape: [2, 3] });
  });

  it("reads the SDK's batched forward_backward output back into one record per datum", () => {
    const out = forwardBackwardOutputFromProto(bytesOf(fwdBwdOutput!.hex));
    expect(out.metrics).toEqual({ "loss:sum": 2.5 });
    expect(out.loss_fn_outputs.map((r) => r.logprobs!.data)).toEqual([
      [-1, -2, -0.25],
      [-3, -0.5],
    ]);
    expect(out.loss_fn_outputs[1]!.logprobs!.shape).toEqual([2]);
    expect(hexOf(forwardBackwardOutputToProto(out))).toBe(fwdBwdOutput!.hex);
  });

  it("reads and writes a sample response with NaN-marked prompt log-probs and masked top-k slots", () => {
    const wire = sampleResponseFromProto(bytesOf(sample!.hex));
    expect(wire.sequences).toEqual([
      { stop_reason: "length", tokens: [4, 5], logprobs: [-0.5, -0.75] },
      { stop_reason: "stop", tokens: [7], logprobs: [-1.25] },
    ]);
    expect(wire.prompt_logprobs).toEqual([null, -2, -3]);
    expect(wire.topk_prompt_logprobs).toEqual([
      null,
      [
        [11, -0.5],
        [12, -1],
      ],
      [[13, -0.25]],
    ]);
    expect(hexOf(sampleResponseToProto(wire))).toBe(sample!.hex);
  });
});

describe("protobuf wire format", () => {
  it("writes a negative int32 as ten bytes of 64-bit two's complement and reads it back", () => {
    const bytes = new ProtoWriter().varint(2, -1).finish();
    expect(hexOf(bytes)).toBe("10ffffffffffffffffff01");
    const [field] = new ProtoReader(bytes).fields();
    expect(read.int32(field!)).toBe(-1);
  });

  it("skips fields it does not know, of every wire type", () => {
    const bytes = new ProtoWriter()
      .varint(90, 7)
      .double(91, 1.5)
      .float(92, 2.5)
      .string(93, "later field")
      .string(1, "m")
      .varint(2, 4)
      .finish();
    expect(decodeForwardBackwardRequest(bytes)).toMatchObject({ modelId: "m", seqId: 4, data: [] });
  });

  it("refuses a message cut short inside a field", () => {
    const bytes = new ProtoWriter().string(1, "model-id").finish().subarray(0, 5);
    expect(() => decodeForwardBackwardRequest(bytes)).toThrow(ProtoDecodeError);
  });

  it("refuses a field sent with a wire type its schema does not have", () => {
    const bytes = new ProtoWriter().varint(1, 5).finish(); // model_id is a string
    expect(() => decodeForwardBackwardRequest(bytes)).toThrow(/wire type 0, expected 2/);
  });

  it("refuses token bytes that are not whole int32 values", () => {
    const bytes = new ProtoWriter()
      .message(3, (d) => d.message(1, (c) => c.message(1, (t) => t.bytes(1, new Uint8Array([1, 2, 3])))))
      .finish();
    expect(() => forwardBackwardBodyFromProto(bytes)).toThrow(/3 bytes is not a whole number of 4-byte values/);
  });
});
