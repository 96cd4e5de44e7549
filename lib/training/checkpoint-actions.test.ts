import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getOrCreatePolicy, getPolicyForOwner } from "@/lib/db/queries/policies";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { exportPeft } from "@/lib/engine/state";
import { exportCheckpointPeft, manualCheckpointName, peftFromState, saveCheckpointNow } from "./checkpoint-actions";
import { filesOf, ownerWithSavedState, savedState } from "./test-state";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-actions-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

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
  const ownerWithState = (d: Db) => ownerWithSavedState(d, root);

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
  });
});
