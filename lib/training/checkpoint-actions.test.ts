import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getOrCreatePolicy, getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep } from "@/lib/db/queries/training-steps";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import type { ModelConfig } from "@/lib/engine/config";
import { createJsKernels } from "@/lib/engine/kernels/js-kernels";
import { createLora } from "@/lib/engine/lora";
import { exportPeft, saveLoraState } from "@/lib/engine/state";
import {
  exportCheckpointPeft,
  listCheckpointsForOwner,
  manualCheckpointName,
  peftFromState,
  restoreCheckpoint,
  saveCheckpointNow,
} from "./checkpoint-actions";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-actions-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const tiny: ModelConfig = {
  vocabSize: 16,
  hiddenSize: 8,
  intermediateSize: 12,
  numLayers: 2,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 4,
  rmsNormEps: 1e-6,
  ropeTheta: 10_000,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: true,
};

/** A trained-looking adapter state on disk: non-zero A and B, Adam moments, step 7. */
function savedState(dir: string) {
  const adapter = createLora(
    tiny,
    { rank: 2, alpha: 4, targetModules: ["q_proj", "v_proj", "down_proj"] },
    3,
    createJsKernels(),
  );
  adapter.tensors.forEach((t, i) => {
    t.value.forEach((_, j) => (t.value[j] = Math.sin(i * 13 + j)));
    t.m = Float32Array.from(t.value, (v) => v / 10);
    t.v = Float32Array.from(t.value, (v) => v * v);
  });
  adapter.step = 7;
  saveLoraState(adapter, dir);
  return adapter;
}

function filesOf(dir: string): Record<string, Buffer> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((n) => [n, fs.readFileSync(path.join(dir, n))]),
  );
}

it("a PEFT export of a saved state is byte-identical to the engine's export of the live adapter", () => {
  const stateDir = path.join(root, "peft-state");
  const adapter = savedState(stateDir);
  exportPeft(adapter, path.join(root, "peft-live"), "tiny-base");
  peftFromState(stateDir, path.join(root, "peft-from-state"), "tiny-base");
  const live = filesOf(path.join(root, "peft-live"));
  expect(Object.keys(live)).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
  expect(filesOf(path.join(root, "peft-from-state"))).toEqual(live);
});

it("manual checkpoint names sort by time and use only name-safe characters", () => {
  expect(manualCheckpointName(new Date("2026-11-26T05:30:50.123Z"))).toBe("manual-20261126T053050Z");
});

forEachDriver("checkpoint actions", (db) => {
  async function ownerWithState(d: Db) {
    const u = await makeUser(d);
    const p = await getOrCreatePolicy({
      db: d,
      ownerId: u.id,
      baseModel: "tiny-base",
      backend: "embedded",
      loraRank: 2,
    });
    const dir = path.join(root, u.id, "step-000007");
    savedState(dir);
    const c = await createCheckpoint({
      db: d,
      ownerId: u.id,
      policyId: p.id,
      step: 7,
      name: "step-000007",
      path: dir,
      kind: "state",
    });
    return { u, p, c, dir };
  }

  it("save now without an open trainer copies the current state and makes the copy current", async () => {
    const { u, p, dir } = await ownerWithState(db());
    const result = await saveCheckpointNow({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      live: undefined,
      now: new Date("2026-01-01T00:00:00Z"),
    });
    if (result.status !== "saved") throw new Error(`expected saved, got ${result.status}`);
    expect({
      name: result.checkpoint.name,
      step: result.checkpoint.step,
      kind: result.checkpoint.kind,
      path: result.checkpoint.path,
    }).toEqual({
      name: "manual-20260101T000000Z",
      step: 7,
      kind: "state",
      path: path.join(path.dirname(dir), "manual-20260101T000000Z"),
    });
    expect(filesOf(result.checkpoint.path)).toEqual(filesOf(dir));
    expect((await getPolicyForOwner({ db: db(), id: p.id, ownerId: u.id }))?.currentCheckpointId).toBe(
      result.checkpoint.id,
    );
  });

  it("save now prefers the open trainer's own saveState", async () => {
    const { u, p } = await ownerWithState(db());
    const liveDir = path.join(root, u.id, "live-save");
    const calls: string[] = [];
    const live = {
      async saveState(policy: { id: string }, name: string) {
        calls.push(`${policy.id}:${name}`);
        savedState(liveDir);
        return { path: liveDir, step: 9 };
      },
      forget() {},
    };
    const result = await saveCheckpointNow({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      live,
      now: new Date("2026-01-02T00:00:00Z"),
    });
    expect(calls).toEqual([`${p.id}:manual-20260102T000000Z`]);
    expect(result.status === "saved" && { path: result.checkpoint.path, step: result.checkpoint.step }).toEqual({
      path: liveDir,
      step: 9,
    });
  });

  it("save now falls back to copying the current state when the trainer cannot be opened", async () => {
    const { u, p, dir } = await ownerWithState(db());
    const live = {
      async saveState(): Promise<never> {
        throw new Error("model is not installed");
      },
      forget() {},
    };
    const result = await saveCheckpointNow({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      live,
      now: new Date("2026-01-03T00:00:00Z"),
    });
    expect(result.status === "saved" && filesOf(result.checkpoint.path)).toEqual(filesOf(dir));
  });

  it("save now on another user's policy is not found, and a policy never trained has nothing to save", async () => {
    const a = await ownerWithState(db());
    const b = await makeUser(db());
    expect(await saveCheckpointNow({ db: db(), ownerId: b.id, policyId: a.p.id, live: undefined })).toEqual({
      status: "not_found",
    });
    const fresh = await getOrCreatePolicy({
      db: db(),
      ownerId: b.id,
      baseModel: "tiny-base",
      backend: "embedded",
      loraRank: 2,
    });
    expect(await saveCheckpointNow({ db: db(), ownerId: b.id, policyId: fresh.id, live: undefined })).toEqual({
      status: "nothing_to_save",
    });
  });

  it("export gives the adapter files under one folder; another user's checkpoint is not found", async () => {
    const { u, c } = await ownerWithState(db());
    const result = await exportCheckpointPeft({ db: db(), ownerId: u.id, checkpointId: c.id });
    if (result.status !== "ok") throw new Error(`expected ok, got ${result.status}`);
    expect(result.files.map((f) => f.name)).toEqual([
      `default-step-000007-peft/adapter_config.json`,
      `default-step-000007-peft/adapter_model.safetensors`,
    ]);
    const config = JSON.parse(new TextDecoder().decode(result.files[0]!.data)) as Record<string, unknown>;
    expect({
      r: config.r,
      lora_alpha: config.lora_alpha,
      base: config.base_model_name_or_path,
      targets: config.target_modules,
    }).toEqual({ r: 2, lora_alpha: 4, base: "tiny-base", targets: ["q_proj", "v_proj", "down_proj"] });
    const other = await makeUser(db());
    expect(await exportCheckpointPeft({ db: db(), ownerId: other.id, checkpointId: c.id })).toEqual({
      status: "not_found",
    });
  });

  it("a checkpoint held by a remote service cannot be exported", async () => {
    const { u, p } = await ownerWithState(db());
    const remote = await createCheckpoint({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      step: 8,
      name: "r",
      path: "tinker://run/weights/r",
      kind: "state",
    });
    expect((await exportCheckpointPeft({ db: db(), ownerId: u.id, checkpointId: remote.id })).status).toBe(
      "unsupported",
    );
    const listed = await listCheckpointsForOwner({ db: db(), ownerId: u.id });
    expect(listed.checkpoints.map((x) => [x.name, x.exportable, x.current])).toEqual([
      ["r", false, true],
      ["step-000007", true, false],
    ]);
  });

  it("restore makes the checkpoint current, sets the policy's step and drops the in-memory clients", async () => {
    const { u, p, c } = await ownerWithState(db());
    await createCheckpoint({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      step: 12,
      name: "step-000012",
      path: path.join(root, "later"),
      kind: "state",
    });
    const forgotten: string[] = [];
    const live = { saveState: async () => null, forget: (id: string) => void forgotten.push(id) };
    const result = await restoreCheckpoint({ db: db(), ownerId: u.id, checkpointId: c.id, live });
    expect(result.status).toBe("restored");
    const after = await getPolicyForOwner({ db: db(), id: p.id, ownerId: u.id });
    expect({ current: after?.currentCheckpointId, step: after?.step }).toEqual({ current: c.id, step: 7 });
    expect(forgotten).toEqual([p.id]);
  });

  it("restore is refused while a step of the policy is queued, and for another user", async () => {
    const { u, p, c } = await ownerWithState(db());
    const other = await makeUser(db());
    expect(await restoreCheckpoint({ db: db(), ownerId: other.id, checkpointId: c.id, live: undefined })).toEqual({
      status: "not_found",
    });
    await enqueueTrainingStep({ db: db(), ownerId: u.id, policyId: p.id, lossFn: "sdpo" });
    expect(await restoreCheckpoint({ db: db(), ownerId: u.id, checkpointId: c.id, live: undefined })).toEqual({
      status: "busy",
    });
  });
});
