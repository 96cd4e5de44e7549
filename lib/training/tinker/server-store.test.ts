import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INDEX_FILE, ServerStore, type StoredTrainingRun } from "./server-store";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-server-store-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const run: StoredTrainingRun = {
  modelId: "session-1:train:0",
  sessionId: "session-1",
  baseModel: "test/qwen3-tiny-a",
  rank: 4,
  seed: 7,
  step: 0,
  createdAt: "2026-12-01T00:00:00.000Z",
  lastRequestAt: "2026-12-01T00:00:00.000Z",
  unloaded: false,
  lastCheckpoint: null,
  lastSamplerCheckpoint: null,
};

describe("the trainer server's index", () => {
  it("a reopened index has every session, run, checkpoint and sampler, and counts the boot", () => {
    const first = ServerStore.open(dir);
    expect(first.boot).toBe(1);
    first.putSession({ sessionId: "session-1", createdAt: run.createdAt, tags: ["a"] });
    first.putTrainingRun(run);
    first.updateTrainingRun(run.modelId, { step: 2 });
    const checkpoint = {
      tinkerPath: "tinker://session-1:train:0/weights/s2",
      modelId: run.modelId,
      kind: "weights" as const,
      name: "s2",
      backendPath: "/states/x/s2",
      baseModel: run.baseModel,
      rank: 4,
      step: 2,
      createdAt: "2026-12-01T00:00:01.000Z",
    };
    first.putCheckpoint(checkpoint);
    first.putSampler({ samplerId: "session-1:sample:0", baseModel: run.baseModel, modelPath: null, ephemeral: true });

    const second = ServerStore.open(dir);
    expect(second.boot).toBe(2);
    expect(second.session("session-1")).toEqual({ sessionId: "session-1", createdAt: run.createdAt, tags: ["a"] });
    expect(second.trainingRun(run.modelId)).toEqual({ ...run, step: 2, lastCheckpoint: checkpoint.tinkerPath });
    expect(second.checkpoint(checkpoint.tinkerPath)).toEqual(checkpoint);
    expect(second.checkpoints(run.modelId)).toEqual([checkpoint]);
    expect(second.sampler("session-1:sample:0")).toEqual({
      samplerId: "session-1:sample:0",
      baseModel: run.baseModel,
      modelPath: null,
      ephemeral: true,
    });
  });

  it("keys a client chooses never reach Object.prototype", () => {
    const store = ServerStore.open(dir);
    for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(store.session(key)).toBeUndefined();
      expect(store.trainingRun(key)).toBeUndefined();
      expect(store.checkpoint(key)).toBeUndefined();
      expect(store.sampler(key)).toBeUndefined();
    }
  });

  it("writes by replacing the file whole, leaving no temporary file behind", () => {
    const store = ServerStore.open(dir);
    store.putTrainingRun(run);
    expect(fs.readdirSync(dir)).toEqual([INDEX_FILE]);
    const inode = fs.statSync(path.join(dir, INDEX_FILE)).ino;
    store.updateTrainingRun(run.modelId, { step: 1 });
    // A rename, not a rewrite in place: a reader (or a crash) sees the old file or the new one.
    expect(fs.statSync(path.join(dir, INDEX_FILE)).ino).not.toBe(inode);
    expect(JSON.parse(fs.readFileSync(path.join(dir, INDEX_FILE), "utf8")).trainingRuns[run.modelId].step).toBe(1);
  });

  it("an index it cannot read stops the server instead of being replaced", () => {
    fs.writeFileSync(path.join(dir, INDEX_FILE), '{"version": 1, "boots": 3, "sessions": {"s": 1}');
    expect(() => ServerStore.open(dir)).toThrow(/is not a trainer index this version reads.*move it aside/s);
    expect(fs.readFileSync(path.join(dir, INDEX_FILE), "utf8")).toContain('"boots": 3');
  });

  it("without a directory it keeps everything in memory", () => {
    const store = ServerStore.open(null);
    store.putTrainingRun(run);
    expect(store.trainingRun(run.modelId)).toEqual(run);
    expect(store.boot).toBe(1);
  });
});
