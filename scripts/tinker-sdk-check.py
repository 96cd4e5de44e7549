"""Calls every public call of the official Tinker Python SDK against a Tinker-protocol server and
prints one line per call, ✓ or ✗ with the reason, then a JSON summary on the last line.

  TINKER_SDK_DIR=/tmp/tinker-sdk-0.25 python3 scripts/tinker-sdk-check.py \
      --base-url http://127.0.0.1:8000 --api-key tml-... --base-model continualcode/qwen3-tiny-coder

TINKER_SDK_DIR is a checkout of github.com/thinking-machines-lab/tinker (unmodified, not
installed): its src/ goes first on sys.path, a package-metadata stub gives importlib the version
its pyproject.toml names, and Debian's dist-packages (httpx, anyio, protobuf, …) go last so the
machine's pydantic 2 wins over Debian's 1.x. get_tokenizer needs transformers and
forward_backward_custom needs torch; they are reported as skipped when those are missing.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tinker_sdk_path import put_sdk_on_path  # noqa: E402

_version = put_sdk_on_path()

import tinker  # noqa: E402
from tinker import types  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--api-key", required=True)
parser.add_argument("--base-model", default="continualcode/qwen3-tiny-coder")
parser.add_argument("--rank", type=int, default=4)
parser.add_argument("--timeout", type=float, default=120.0, help="seconds any one call may take")
args = parser.parse_args()

results: list[dict] = []
state: dict = {}


def check(name: str, skip: str | None = None):
    """Runs the decorated function at once as the check named `name`; its return value is the detail."""

    def run(fn):
        if skip:
            results.append({"call": name, "ok": None, "detail": skip})
            print(f"- {name}: skipped ({skip})", flush=True)
            return fn
        start = time.time()
        try:
            detail = fn()
            results.append({"call": name, "ok": True, "detail": str(detail or "")[:200]})
            print(f"✓ {name} ({time.time() - start:.1f}s) {str(detail or '')[:120]}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is a row of the table
            msg = f"{type(e).__name__}: {e}"
            results.append({"call": name, "ok": False, "detail": msg[:400]})
            print(f"✗ {name} ({time.time() - start:.1f}s) {msg[:300]}", flush=True)
            if os.environ.get("TINKER_SDK_CHECK_TRACEBACKS"):
                traceback.print_exc()
        return fn

    return run


def result(future):
    return future.result(timeout=args.timeout)


def has(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


T = 12  # tokens per datum
prompt_tokens = [100 + i for i in range(T)]


def datum(loss: str, advantages_nan: bool = False) -> types.Datum:
    tokens = prompt_tokens
    inputs: dict = {"target_tokens": tokens[1:] + [101]}
    if loss == "cross_entropy":
        inputs["weights"] = [0.0] * 4 + [1.0] * (T - 4)
    else:
        inputs["logprobs"] = [-3.0] * T
        adv = [0.5] * T
        if advantages_nan:
            adv[3] = float("nan")
        inputs["advantages"] = adv
    return types.Datum(model_input=types.ModelInput.from_ints(tokens), loss_fn_inputs=inputs)


service = tinker.ServiceClient(base_url=args.base_url, api_key=args.api_key)
rest = service.create_rest_client()
adam = types.AdamParams(learning_rate=1e-3)
params = types.SamplingParams(max_tokens=8, temperature=1.0, seed=1)
prompt = types.ModelInput.from_ints(prompt_tokens[:6])


@check("ServiceClient.get_server_capabilities")
def _():
    caps = service.get_server_capabilities()
    names = [m.model_name for m in caps.supported_models]
    assert args.base_model in names, names
    return names


@check("ServiceClient.create_lora_training_client")
def _():
    state["tc"] = service.create_lora_training_client(base_model=args.base_model, rank=args.rank)
    return state["tc"].model_id


tc = state.get("tc")


@check("TrainingClient.get_info")
def _():
    info = tc.get_info()
    assert info.model_data.model_name == args.base_model
    return f"lora_rank={info.lora_rank}"


@check("TrainingClient.get_tokenizer", skip=None if has("transformers") else "needs transformers")
def _():
    return type(tc.get_tokenizer()).__name__


for loss in ["cross_entropy", "importance_sampling", "ppo"]:

    @check(f"TrainingClient.forward_backward ({loss})")
    def _(loss=loss):
        out = result(tc.forward_backward([datum(loss), datum(loss)], loss))
        lp = out.loss_fn_outputs[0]["logprobs"].tolist()
        assert len(lp) == T and all(math.isfinite(v) and v <= 0 for v in lp), lp
        return f"metrics={dict(out.metrics)}"


@check("TrainingClient.forward (no gradient)")
def _():
    out = result(tc.forward([datum("cross_entropy")], "cross_entropy"))
    lp = out.loss_fn_outputs[0]["logprobs"].tolist()
    assert len(lp) == T, lp
    return f"logprobs[:3]={[round(v, 3) for v in lp[:3]]}"


@check("TrainingClient.forward_backward_custom", skip=None if has("torch") else "needs torch")
def _():
    import torch

    def loss_fn(data, logprobs_list):
        loss = sum((-lp).sum() for lp in logprobs_list)
        return loss, {"custom_loss": float(loss)}

    return result(tc.forward_backward_custom([datum("cross_entropy")], loss_fn)).metrics


@check("TrainingClient.optim_step")
def _():
    return result(tc.optim_step(adam)).metrics


@check("non-finite loss input is refused, and the model's next request runs")
def _():
    try:
        result(tc.forward_backward([datum("importance_sampling", advantages_nan=True)], "importance_sampling"))
    except Exception as e:  # the refusal is the expected outcome
        refused = f"{type(e).__name__}: {e}"
    else:
        raise AssertionError("a NaN advantage was accepted")
    assert "finite" in refused, refused
    result(tc.forward_backward([datum("cross_entropy")], "cross_entropy"))
    return refused[:150]


@check("TrainingClient.save_state")
def _():
    state["state_path"] = result(tc.save_state("check-state")).path
    return state["state_path"]


@check("TrainingClient.save_weights_for_sampler")
def _():
    state["sampler_path"] = result(tc.save_weights_for_sampler("check-sampler")).path
    return state["sampler_path"]


@check("TrainingClient.load_state")
def _():
    return result(tc.load_state(state["state_path"])).path


@check("TrainingClient.load_state_with_optimizer")
def _():
    return result(tc.load_state_with_optimizer(state["state_path"])).path


@check("TrainingClient.save_weights_and_get_sampling_client")
def _():
    sc = tc.save_weights_and_get_sampling_client()
    out = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=params))
    return f"tokens={out.sequences[0].tokens}"


@check("TrainingClient.create_sampling_client")
def _():
    state["sc"] = tc.create_sampling_client(state["sampler_path"])
    return state["sampler_path"]


@check("ServiceClient.create_sampling_client (model_path)")
def _():
    state["sc"] = service.create_sampling_client(model_path=state["sampler_path"])
    return "ok"


@check("ServiceClient.create_sampling_client (base_model)")
def _():
    state["base_sc"] = service.create_sampling_client(base_model=args.base_model)
    return "ok"


sc = state.get("sc")


@check("SamplingClient.sample")
def _():
    out = result(sc.sample(prompt=prompt, num_samples=2, sampling_params=params))
    assert len(out.sequences) == 2 and all(len(s.tokens) <= 8 for s in out.sequences)
    assert all(len(s.logprobs) == len(s.tokens) for s in out.sequences)
    return f"stop_reasons={[s.stop_reason for s in out.sequences]}"


@check("SamplingClient.sample (stop token ids)")
def _():
    first = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=params)).sequences[0].tokens
    stop = first[1]
    out = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=types.SamplingParams(max_tokens=8, temperature=1.0, seed=1, stop=[stop])))
    seq = out.sequences[0]
    assert seq.stop_reason == "stop" and seq.tokens[-1] == stop and len(seq.tokens) <= 2, seq
    return f"tokens={seq.tokens}"


@check("SamplingClient.sample (stop strings)")
def _():
    out = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=types.SamplingParams(max_tokens=16, temperature=1.0, seed=2, stop=["\n", " "])))
    seq = out.sequences[0]
    assert seq.stop_reason in ("stop", "length")
    return f"stop_reason={seq.stop_reason} tokens={seq.tokens}"


@check("SamplingClient.sample (prompt_logprobs)")
def _():
    out = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=params, include_prompt_logprobs=True))
    lp = out.prompt_logprobs
    assert lp is not None and len(lp) == 6 and lp[0] is None and all(v is not None and v <= 0 for v in lp[1:]), lp
    return f"prompt_logprobs[1:3]={[round(v, 3) for v in lp[1:3]]}"


@check("SamplingClient.sample (topk_prompt_logprobs)")
def _():
    out = result(sc.sample(prompt=prompt, num_samples=1, sampling_params=params, topk_prompt_logprobs=3))
    topk = out.topk_prompt_logprobs
    assert topk is not None and len(topk) == 6 and topk[0] is None, topk
    row = topk[1]
    assert len(row) == 3 and row[0][1] >= row[1][1] >= row[2][1], row
    return f"position 1: {[(t, round(p, 3)) for t, p in row]}"


@check("SamplingClient.compute_logprobs")
def _():
    lp = result(sc.compute_logprobs(prompt))
    assert len(lp) == 6 and lp[0] is None, lp
    return f"{[None if v is None else round(v, 3) for v in lp[:3]]}"


@check("SamplingClient.get_base_model")
def _():
    return sc.get_base_model()


@check("ServiceClient.create_training_client_from_state")
def _():
    c = service.create_training_client_from_state(state["state_path"])
    result(c.forward_backward([datum("cross_entropy")], "cross_entropy"))
    return c.model_id


@check("ServiceClient.create_training_client_from_state_with_optimizer")
def _():
    c = service.create_training_client_from_state_with_optimizer(state["state_path"])
    result(c.optim_step(adam))
    return c.model_id


async def _async_calls():
    out = {}
    c = await service.create_lora_training_client_async(base_model=args.base_model, rank=args.rank)
    fb = await c.forward_backward_async([datum("cross_entropy")], "cross_entropy")
    out["forward_backward_async"] = (await fb.result_async()).metrics
    fw = await c.forward_async([datum("cross_entropy")], "cross_entropy")
    out["forward_async"] = len((await fw.result_async()).loss_fn_outputs)
    opt = await c.optim_step_async(adam)
    out["optim_step_async"] = (await opt.result_async()).metrics
    sv = await c.save_weights_for_sampler_async("check-async")
    path = (await sv.result_async()).path
    s = await service.create_sampling_client_async(model_path=path)
    smp = await s.sample_async(prompt=prompt, num_samples=1, sampling_params=params)
    out["sample_async"] = smp.sequences[0].tokens
    out["compute_logprobs_async"] = len(await s.compute_logprobs_async(prompt))
    return out


@check("async variants (create/forward_backward/forward/optim_step/save/sample/compute_logprobs)")
def _():
    return asyncio.run(asyncio.wait_for(_async_calls(), args.timeout))


model_id = tc.model_id if tc else None


@check("RestClient.get_training_run")
def _():
    run = result(rest.get_training_run(model_id))
    assert run.training_run_id == model_id and run.base_model == args.base_model
    return f"last_checkpoint={run.last_checkpoint and run.last_checkpoint.tinker_path}"


@check("RestClient.get_training_run_by_tinker_path")
def _():
    return result(rest.get_training_run_by_tinker_path(state["state_path"])).training_run_id


@check("RestClient.get_weights_info_by_tinker_path")
def _():
    return result(rest.get_weights_info_by_tinker_path(state["state_path"]))


@check("RestClient.list_training_runs")
def _():
    runs = result(rest.list_training_runs(limit=10))
    assert model_id in [r.training_run_id for r in runs.training_runs]
    return f"{len(runs.training_runs)} of {runs.cursor.total_count}"


@check("RestClient.list_checkpoints")
def _():
    cps = result(rest.list_checkpoints(model_id)).checkpoints
    paths = [c.tinker_path for c in cps]
    assert state["state_path"] in paths and state["sampler_path"] in paths, paths
    return f"{len(cps)} checkpoints"


@check("RestClient.list_user_checkpoints")
def _():
    cps = result(rest.list_user_checkpoints(limit=50))
    return f"{len(cps.checkpoints)} of {cps.cursor.total_count}"


@check("RestClient.list_sessions")
def _():
    return f"{len(result(rest.list_sessions()).sessions)} sessions"


@check("RestClient.get_session")
def _():
    sid = service.holder.get_session_id()
    s = result(rest.get_session(sid))
    assert model_id in s.training_run_ids
    return f"runs={len(s.training_run_ids)} samplers={len(s.sampler_ids)}"


@check("RestClient.get_sampler")
def _():
    sid = state["sc"]._sampling_session_id
    return result(rest.get_sampler(sid))


@check("RestClient.delete_checkpoint_from_tinker_path")
def _():
    path = result(tc.save_state("check-delete")).path
    result(rest.delete_checkpoint_from_tinker_path(path))
    left = [c.tinker_path for c in result(rest.list_checkpoints(model_id)).checkpoints]
    assert path not in left, left
    return path


summary = {
    "sdk_version": _version,
    "passed": sum(1 for r in results if r["ok"] is True),
    "failed": sum(1 for r in results if r["ok"] is False),
    "skipped": sum(1 for r in results if r["ok"] is None),
    "results": results,
}
print(json.dumps(summary))
os._exit(0 if summary["failed"] == 0 else 1)
