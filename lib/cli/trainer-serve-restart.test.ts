/**
 * `continualcode trainer serve` killed mid-run and started again on the same data directory: the
 * real process over real HTTP and the real engine (the reference fixture model). Its index keeps
 * sessions, runs, checkpoints and sampling sessions; weights come back only from saved states.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FIXTURE_DIR } from "@/lib/training/contract-suite";
import { ADAM, RawTinker, SEQUENCE, wireCeDatum } from "@/lib/training/tinker/raw-http.fixture";
import { type RunningTrainer, startTrainerServe } from "./trainer-serve.fixture";

const KEY = "tml-restart";
const PROMPT = SEQUENCE.slice(0, 10);

let dataDir: string;
const running: RunningTrainer[] = [];

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-trainer-restart-"));
});

afterEach(async () => {
  for (const trainer of running.splice(0)) {
    trainer.child.kill("SIGKILL");
    await trainer.exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<{ trainer: RunningTrainer; tinker: RawTinker }> {
  const trainer = await startTrainerServe(dataDir, KEY);
  running.push(trainer);
  return { trainer, tinker: new RawTinker(trainer.url, KEY) };
}

/** A crash, not a shutdown: nothing gets to write on the way out. */
async function kill(trainer: RunningTrainer): Promise<void> {
  trainer.child.kill("SIGKILL");
  await trainer.exited;
  running.splice(running.indexOf(trainer), 1);
}

const forwardBackward = (modelId: string, seqId: number) => ({
  model_id: modelId,
  seq_id: seqId,
  forward_backward_input: { data: [wireCeDatum(SEQUENCE, 8)], loss_fn: "cross_entropy" },
});

/** The datum's log-probs under the model's weights now (from a forward_backward). */
const logprobsOf = (result: Record<string, unknown>) =>
  (result.loss_fn_outputs as Array<{ logprobs: { data: number[] } }>)[0].logprobs.data;

/** One training step: forward_backward at `seqId`, Adam at `seqId + 1`. */
const step = async (tinker: RawTinker, modelId: string, seqId: number) => {
  await tinker.call("/api/v1/forward_backward", forwardBackward(modelId, seqId));
  await tinker.call("/api/v1/optim_step", { model_id: modelId, seq_id: seqId + 1, adam_params: ADAM });
};

/** The prompt's log-probs under a sampling session (the sample itself is one token, ignored). */
const promptLogprobs = async (tinker: RawTinker, samplerId: string, seqId: number) => {
  const sample = await tinker.call("/api/v1/asample", {
    sampling_session_id: samplerId,
    seq_id: seqId,
    num_samples: 1,
    prompt: { chunks: [{ type: "encoded_text", tokens: PROMPT }] },
    sampling_params: { max_tokens: 1, seed: 1, temperature: 1 },
    prompt_logprobs: true,
  });
  const logprobs = sample.prompt_logprobs as Array<number | null>;
  expect(logprobs).toHaveLength(PROMPT.length);
  return logprobs;
};

describe("trainer serve across a restart", () => {
  it("loses no checkpoint: after a kill, saved states and sampler weights load by their tinker:// paths with the same log-probs bit for bit, and the run resumes exactly", async () => {
    // 1. Train two steps, save a state and sampler weights, read log-probs; then a third step.
    const first = await start();
    const sessionId = await first.tinker.session();
    const modelId = await first.tinker.model(sessionId, FIXTURE_DIR);
    await step(first.tinker, modelId, 1);
    await step(first.tinker, modelId, 3);
    const statePath = (await first.tinker.call("/api/v1/save_weights", { model_id: modelId, seq_id: 5, path: "step2" }))
      .path as string;
    const samplerPath = (
      await first.tinker.call("/api/v1/save_weights_for_sampler", { model_id: modelId, seq_id: 6, path: "step2" })
    ).path as string;
    const sampler = await first.tinker.post("/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 0,
      model_path: samplerPath,
    });
    const samplerId = sampler.body.sampling_session_id as string;
    const before = await promptLogprobs(first.tinker, samplerId, 0);
    await step(first.tinker, modelId, 7);
    // After step 3, which used Adam's moments from steps 1 and 2.
    const submittedBefore = await first.tinker.post("/api/v1/forward_backward", forwardBackward(modelId, 9));
    const afterStepThree = logprobsOf((await first.tinker.result(submittedBefore)).body);
    await kill(first.trainer);

    // 2. Same data directory, new process.
    const second = await start();
    const { tinker } = second;
    expect((await tinker.post("/api/v1/session_heartbeat", { session_id: sessionId })).status).toBe(200);
    // The sampling session from before reopens from its checkpoint.
    expect(await promptLogprobs(tinker, samplerId, 1)).toEqual(before);
    // So does a new one on the sampler path.
    const reopened = await tinker.post("/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 1,
      model_path: samplerPath,
    });
    expect(await promptLogprobs(tinker, reopened.body.sampling_session_id as string, 0)).toEqual(before);
    // A training client from the saved state (weights_info → create_model → load_weights), as the SDK makes one.
    const info = await tinker.post("/api/v1/weights_info", { tinker_path: statePath });
    expect(info.body).toMatchObject({ base_model: FIXTURE_DIR, is_lora: true, lora_rank: 4 });
    const fromState = await tinker.model(sessionId, FIXTURE_DIR, 1, 4);
    await tinker.call("/api/v1/load_weights", { model_id: fromState, seq_id: 1, path: statePath, optimizer: true });
    const again = (
      await tinker.call("/api/v1/save_weights_for_sampler", { model_id: fromState, seq_id: 2, path: "reloaded" })
    ).path as string;
    const fromStateSampler = await tinker.post("/api/v1/create_sampling_session", {
      session_id: sessionId,
      sampling_session_seq_id: 2,
      model_path: again,
    });
    expect(await promptLogprobs(tinker, fromStateSampler.body.sampling_session_id as string, 0)).toEqual(before);

    // 3. The old model lost its weights: it is told so, with the state to resume from.
    const lost = await tinker.post("/api/v1/forward_backward", forwardBackward(modelId, 10));
    expect(lost.status).toBe(404);
    expect(lost.body.detail).toBe(
      `model ${modelId} lost its weights when the server restarted; its last saved state is ${statePath} (step 2): load it (load_state) to resume from there`,
    );
    // A poll for a request made before the restart is told to resubmit.
    const stale = await tinker.post("/api/v1/retrieve_future", { request_id: submittedBefore.body.request_id });
    expect(stale.status).toBe(410);
    // Loading the state with its optimizer resumes the run: step 3 again lands on the same weights.
    await tinker.call("/api/v1/load_weights", { model_id: modelId, seq_id: 11, path: statePath, optimizer: true });
    await step(tinker, modelId, 12);
    expect(logprobsOf(await tinker.call("/api/v1/forward_backward", forwardBackward(modelId, 14)))).toEqual(
      afterStepThree,
    );
    const info2 = await tinker.post("/api/v1/get_info", { model_id: modelId });
    expect(info2.body).toMatchObject({ model_id: modelId, lora_rank: 4, model_name: FIXTURE_DIR });
  });

  it("a model that saved nothing is lost with a clear error, an ephemeral sampler too, and unknown paths stay unknown", async () => {
    const first = await start();
    const sessionId = await first.tinker.session();
    const modelId = await first.tinker.model(sessionId, FIXTURE_DIR);
    await step(first.tinker, modelId, 1);
    const ephemeral = await first.tinker.call("/api/v1/save_weights_for_sampler", {
      model_id: modelId,
      seq_id: 3,
      sampling_session_seq_id: 0,
    });
    await kill(first.trainer);

    const { tinker } = await start();
    const lost = await tinker.post("/api/v1/optim_step", { model_id: modelId, seq_id: 4, adam_params: ADAM });
    expect(lost.status).toBe(404);
    expect(lost.body.detail).toBe(
      `model ${modelId} lost its weights when the server restarted; it saved no state (save_state), so create a new training client`,
    );
    const sample = await tinker.post("/api/v1/asample", {
      sampling_session_id: ephemeral.sampling_session_id,
      seq_id: 0,
      prompt: { chunks: [{ type: "encoded_text", tokens: PROMPT }] },
      sampling_params: { max_tokens: 1 },
    });
    expect(sample.status).toBe(404);
    expect(sample.body.detail).toMatch(/held weights in memory only and lost them when the server restarted/);
    const unknown = await tinker.post("/api/v1/weights_info", { tinker_path: `tinker://${modelId}/weights/never` });
    expect(unknown.status).toBe(404);
    expect(await tinker.post("/api/v1/create_session", { tags: [] })).toMatchObject({ status: 200 });
  });

  it("one server per data directory: a second one exits naming the first", async () => {
    const first = await start();
    const second = startTrainerServe(dataDir, KEY);
    await expect(second).rejects.toThrow(
      new RegExp(`exited with 1 before listening:[\\s\\S]*in use by trainer serve process ${first.trainer.child.pid}`),
    );
  });
});
