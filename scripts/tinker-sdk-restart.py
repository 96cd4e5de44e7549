"""The official Tinker Python SDK across a restart of `trainer serve`, in one client process:
train two steps (a save refused between them), save a state and sampler weights, read log-probs,
then print `restart now` and wait for a line on stdin while the server is killed and started
again on the same port and data directory; then load everything back by its tinker:// path and
print one JSON line of results.

  TINKER_SDK_DIR=/tmp/tinker-sdk-0.25 python3 scripts/tinker-sdk-restart.py \
      --base-url http://127.0.0.1:8100 --api-key tml-... --base-model <model>

TINKER_SDK_DIR is an unmodified checkout of github.com/thinking-machines-lab/tinker, put on
sys.path as scripts/tinker-sdk-check.py does (Debian's dist-packages last, so pydantic 2 wins).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tinker_sdk_path import put_sdk_on_path  # noqa: E402

_version = put_sdk_on_path()

import tinker  # noqa: E402
from tinker import types  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--api-key", required=True)
parser.add_argument("--base-model", required=True)
args = parser.parse_args()

SEQUENCE = [5, 17, 42, 99, 7, 250, 3, 61, 12, 300, 44, 8]
TIMEOUT = 120


def datum() -> types.Datum:
    targets = SEQUENCE[1:]
    weights = [0.0] * 6 + [1.0] * (len(targets) - 6)
    return types.Datum(
        model_input=types.ModelInput.from_ints(SEQUENCE[:-1]),
        loss_fn_inputs={
            "target_tokens": types.TensorData(data=targets, dtype="int64", shape=[len(targets)]),
            "weights": types.TensorData(data=weights, dtype="float32", shape=[len(weights)]),
        },
    )


def step(client) -> None:
    client.forward_backward([datum()], "cross_entropy").result(timeout=TIMEOUT)
    client.optim_step(types.AdamParams(learning_rate=2e-2)).result(timeout=TIMEOUT)


def logprobs(sampler) -> list:
    return sampler.compute_logprobs(types.ModelInput.from_ints(SEQUENCE)).result(timeout=TIMEOUT)


def after_step(client) -> list:
    """The datum's log-probs under the weights now: a forward_backward's output (no step follows)."""
    out = client.forward_backward([datum()], "cross_entropy").result(timeout=TIMEOUT)
    return out.loss_fn_outputs[0]["logprobs"].tolist()


service = tinker.ServiceClient(base_url=args.base_url, api_key=args.api_key)
training = service.create_lora_training_client(base_model=args.base_model, rank=4, seed=3)
step(training)
# A request the server refuses at submit (a name that is not one path segment) uses up its seq_id:
# the requests after it go through at once instead of waiting on it.
try:
    training.save_state("../escape").result(timeout=TIMEOUT)
    refused = None
except Exception as error:  # the SDK's own exception, whatever its class
    refused = str(error)
step(training)
state_path = training.save_state("step2").result(timeout=TIMEOUT).path
sampler_path = training.save_weights_for_sampler("step2").result(timeout=TIMEOUT).path
sampler = service.create_sampling_client(model_path=sampler_path)
before = logprobs(sampler)
step(training)
after_three = after_step(training)

print("restart now", flush=True)
sys.stdin.readline()

results: dict = {"sdk": _version, "state_path": state_path, "sampler_path": sampler_path, "refused_save": refused}
results["old_sampler_same"] = logprobs(sampler) == before
results["new_sampler_same"] = logprobs(service.create_sampling_client(model_path=sampler_path)) == before
from_state = service.create_training_client_from_state_with_optimizer(state_path)
results["from_state_same"] = logprobs(from_state.save_weights_and_get_sampling_client()) == before
try:
    training.forward_backward([datum()], "cross_entropy").result(timeout=TIMEOUT)
    results["lost_model_error"] = None
except Exception as error:  # the SDK's own exception, whatever its class
    results["lost_model_error"] = str(error)
training.load_state_with_optimizer(state_path).result(timeout=TIMEOUT)
step(training)
results["resumed_same"] = after_step(training) == after_three
results["pyqwest_imported"] = any(name.split(".")[0] == "pyqwest" for name in sys.modules)
print(json.dumps(results), flush=True)
