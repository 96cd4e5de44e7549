import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep } from "@/lib/db/queries/training-steps";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { ownerWithSavedState } from "@/lib/training/test-state";
import { listCheckpointsForOwner, restoreCheckpoint } from "./checkpoints";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "agent-checkpoints-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

forEachDriver("the agent's checkpoints", (db) => {
  const ownerWithState = (d: Db) => ownerWithSavedState(d, root);

  it("lists a remote checkpoint as not exportable and the newest as current", async () => {
    const { u, p } = await ownerWithState(db());
    await createCheckpoint({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      step: 8,
      name: "r",
      path: "tinker://run/weights/r",
      kind: "state",
    });
    const listed = await listCheckpointsForOwner({ db: db(), ownerId: u.id });
    expect(listed.checkpoints.map((x) => [x.name, x.exportable, x.current])).toEqual([
      ["r", false, true],
      ["step-000007", true, false],
    ]);
    const other = await makeUser(db());
    expect(await listCheckpointsForOwner({ db: db(), ownerId: other.id })).toEqual({ policies: [], checkpoints: [] });
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
    await enqueueTrainingStep({ db: db(), ownerId: u.id, policyId: p.id, lossFn: "importance_sampling" });
    expect(await restoreCheckpoint({ db: db(), ownerId: u.id, checkpointId: c.id, live: undefined })).toEqual({
      status: "busy",
    });
  });
});
