"""Writes protobuf bytes made by the official Tinker SDK's generated messages (python3-protobuf),
so lib/training/tinker/proto tests check our codec against a real protobuf implementation.

  TINKER_SDK_DIR=/tmp/tinker-sdk-0.25 python3 scripts/tinker-proto-golden.py \
      > lib/training/tinker/proto/fixtures/python-protobuf.json

Each case names the message, the fields set (as JSON) and the serialized bytes (hex).
"""
import importlib.util
import json
import os
import struct
import sys

# Only the generated message module is loaded (by path), not the SDK package around it.
_spec = importlib.util.spec_from_file_location(
    "tinker_public_pb2", os.path.join(os.environ["TINKER_SDK_DIR"], "src/tinker/proto/tinker_public_pb2.py")
)
pb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pb)


def i32(xs):
    return struct.pack(f"<{len(xs)}i", *xs)


def f32(xs):
    return struct.pack(f"<{len(xs)}f", *xs)


def i64(xs):
    return struct.pack(f"<{len(xs)}q", *xs)


cases = []

# forward_backward: two datums, int64 targets, float32 weights, one config entry, negative-free seq id.
req = pb.ForwardBackwardRequest(model_id="session-1:train:0", seq_id=3, loss_fn="ppo", forward_only=False)
req.loss_fn_config["clip_low_threshold"] = 0.8
for tokens, targets, weights in [([1, 2, 3], [2, 3, 4], [0.0, 1.0, 0.5]), ([70000, 5], [5, 6], [1.0, -1.0])]:
    d = req.data.add()
    d.model_input.add().encoded_text.tokens = i32(tokens)
    t = d.loss_fn_inputs["target_tokens"]
    t.dtype = pb.DTYPE_INT64
    t.shape.extend([len(targets)])
    t.dense = i64(targets)
    w = d.loss_fn_inputs["weights"]
    w.dtype = pb.DTYPE_FLOAT32
    w.shape.extend([len(weights)])
    w.dense = f32(weights)
cases.append({
    "message": "ForwardBackwardRequest",
    "fields": {"model_id": req.model_id, "seq_id": 3, "loss_fn": "ppo", "loss_fn_config": {"clip_low_threshold": 0.8},
               "forward_only": False,
               "data": [{"tokens": [1, 2, 3], "target_tokens": [2, 3, 4], "weights": [0.0, 1.0, 0.5]},
                        {"tokens": [70000, 5], "target_tokens": [5, 6], "weights": [1.0, -1.0]}]},
    "hex": req.SerializeToString(deterministic=True).hex(),
})

# forward-only with a NaN advantage and a sparse (CSR) 2-D tensor.
fo = pb.ForwardBackwardRequest(model_id="m", seq_id=1, loss_fn="importance_sampling", forward_only=True)
d = fo.data.add()
d.model_input.add().encoded_text.tokens = i32([9, 8])
a = d.loss_fn_inputs["advantages"]
a.dtype = pb.DTYPE_FLOAT32
a.shape.extend([2])
a.dense = f32([float("nan"), 1.5])
s = d.loss_fn_inputs["teacher_topk_logprobs"]
s.dtype = pb.DTYPE_FLOAT32
s.shape.extend([2, 3])
s.sparse_csr.values = f32([-0.5, -1.5])
s.sparse_csr.crow_indices = i64([0, 1, 2])
s.sparse_csr.col_indices = i64([2, 0])
cases.append({
    "message": "ForwardBackwardRequest",
    "fields": {"model_id": "m", "seq_id": 1, "loss_fn": "importance_sampling", "forward_only": True,
               "advantages": ["NaN", 1.5], "teacher_topk_logprobs_dense": [0, 0, -0.5, -1.5, 0, 0]},
    "hex": fo.SerializeToString(deterministic=True).hex(),
})

# forward_backward output: one batched record, two datums of lengths 3 and 2.
out = pb.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord")
out.metrics["loss:sum"] = 2.5
rec = out.loss_fn_outputs.add(type_tag="ArrayRecord", num_datums=2)
lp = rec.fields["logprobs"]
lp.dtype = pb.DTYPE_FLOAT32
lp.data = f32([-1.0, -2.0, -0.25, -3.0, -0.5])
lp.offsets = i64([0, 12, 20])
cases.append({
    "message": "ForwardBackwardOutput",
    "fields": {"metrics": {"loss:sum": 2.5}, "logprobs": [[-1.0, -2.0, -0.25], [-3.0, -0.5]]},
    "hex": out.SerializeToString(deterministic=True).hex(),
})

# sample response: two sequences, prompt logprobs with NaN at 0, top-2 prompt logprobs with a masked row.
sr = pb.SampleResponse(prompt_cache_hit_tokens=0)
sr.sequences.add(stop_reason=pb.STOP_REASON_LENGTH, tokens=i32([4, 5]), logprobs=f32([-0.5, -0.75]))
sr.sequences.add(stop_reason=pb.STOP_REASON_STOP, tokens=i32([7]), logprobs=f32([-1.25]))
sr.prompt_logprobs = f32([float("nan"), -2.0, -3.0])
sr.topk_prompt_logprobs.token_ids = i32([0, 0, 11, 12, 13, 0])
sr.topk_prompt_logprobs.logprobs = f32([-99999.0, -99999.0, -0.5, -1.0, -0.25, -99999.0])
sr.topk_prompt_logprobs.k = 2
sr.topk_prompt_logprobs.prompt_length = 3
cases.append({
    "message": "SampleResponse",
    "fields": {"sequences": [{"stop_reason": "length", "tokens": [4, 5], "logprobs": [-0.5, -0.75]},
                             {"stop_reason": "stop", "tokens": [7], "logprobs": [-1.25]}],
               "prompt_logprobs": [None, -2.0, -3.0],
               "topk_prompt_logprobs": [None, [[11, -0.5], [12, -1.0]], [[13, -0.25]]]},
    "hex": sr.SerializeToString(deterministic=True).hex(),
})

json.dump({"generator": "scripts/tinker-proto-golden.py", "protobuf": __import__("google.protobuf").protobuf.__version__,
           "cases": cases}, sys.stdout, indent=1)
print()
