/**
 * Test fixtures for checkpoint code: a tiny model's trained-looking LoRA state saved to disk, and
 * a directory's files as bytes for whole-folder comparisons.
 */
import fs from "node:fs";
import path from "node:path";
import type { ModelConfig } from "@/lib/engine/config";
import { createJsKernels } from "@/lib/engine/kernels/js-kernels";
import { createLora } from "@/lib/engine/lora";
import { saveLoraState } from "@/lib/engine/state";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { makeUser } from "@/lib/db/test-db";

export const tiny: ModelConfig = {
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
export function savedState(dir: string) {
  const adapter = createLora(
    tiny,
    { rank: 2, alpha: 4, targetModules: ["q_proj", "v_proj", "down_proj"] },
    3,
    createJsKernels(),
  );
  adapter.tensors.forEach((t, i) => {
    for (let j = 0; j < t.value.length; j++) t.value[j] = Math.sin(i * 13 + j);
    t.m = Float32Array.from(t.value, (v) => v / 10);
    t.v = Float32Array.from(t.value, (v) => v * v);
  });
  adapter.step = 7;
  saveLoraState(adapter, dir);
  return adapter;
}

export function filesOf(dir: string): Record<string, Buffer> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((n) => [n, fs.readFileSync(path.join(dir, n))]),
  );
}

/** A user with an embedded policy whose step-7 state is saved under `root` and registered as its checkpoint. */
export async function ownerWithSavedState(d: Db, root: string) {
  const u = await makeUser(d);
  const p = await getOrCreatePolicy({ db: d, ownerId: u.id, baseModel: "tiny-base", backend: "embedded", loraRank: 2 });
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
