/**
 * Step persistence on a real database: a step's row is queued before it runs, then done with its
 * metrics and step count, or failed with the reason; an orphan left queued is failed on the way.
 */
import { expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { getOrCreatePolicy, getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep, getTrainingStepForOwner } from "@/lib/db/queries/training-steps";
import { recordSdpoStep } from "./step-record";

async function owner(db: Db) {
  const user = await makeUser(db);
  const policy = await getOrCreatePolicy({ db, ownerId: user.id, baseModel: "m", backend: "embedded", loraRank: 4 });
  return { ownerId: user.id, policyId: policy.id };
}

forEachDriver("recording SDPO steps", (db) => {
  it("a trained step's row ends done with its metrics, and the policy advances to its step", async () => {
    const who = await owner(db());
    const { row } = await recordSdpoStep({ db: db(), ...who, lossFn: "importance_sampling" }, async () => ({
      status: "trained" as const,
      metrics: { loss: -1.5, sdpo_kl: 0.02 },
      step: 1,
    }));
    expect(row).toMatchObject({
      status: "done",
      step: 1,
      metrics: { loss: -1.5, sdpo_kl: 0.02 },
      lossFn: "importance_sampling",
      error: null,
    });
    expect(await getPolicyForOwner({ db: db(), id: who.policyId, ownerId: who.ownerId })).toMatchObject({ step: 1 });
  });

  it("the row exists before the step runs and is running while it runs", async () => {
    const who = await owner(db());
    let during: string | undefined;
    let id = "";
    await recordSdpoStep({ db: db(), ...who, lossFn: "importance_sampling" }, async () => {
      const rows = await db().query.trainingStep.findMany({ where: (t, { eq }) => eq(t.policyId, who.policyId) });
      during = rows[0]?.status;
      id = rows[0]!.id;
      return { status: "trained" as const, metrics: {}, step: 1 };
    });
    expect(during).toBe("running");
    expect((await getTrainingStepForOwner({ db: db(), id, ownerId: who.ownerId }))?.status).toBe("done");
  });

  it("a rejected step is failed with its reason, and a crash fails the row and rethrows", async () => {
    const who = await owner(db());
    const { row } = await recordSdpoStep({ db: db(), ...who, lossFn: "importance_sampling" }, async () => ({
      status: "rejected" as const,
      reason: "the loss is not finite",
    }));
    expect(row).toMatchObject({ status: "failed", error: "rejected: the loss is not finite", metrics: null });
    await expect(
      recordSdpoStep({ db: db(), ...who, lossFn: "importance_sampling" }, async () =>
        Promise.reject(new Error("engine died")),
      ),
    ).rejects.toThrow("engine died");
    const rows = await db().query.trainingStep.findMany({ where: (t, { eq }) => eq(t.policyId, who.policyId) });
    expect(rows.map((r) => [r.status, r.error]).sort()).toEqual([
      ["failed", "engine died"],
      ["failed", "rejected: the loss is not finite"],
    ]);
  });

  it("a step left queued by a stopped process is failed as interrupted, and the new one runs", async () => {
    const who = await owner(db());
    const orphan = await enqueueTrainingStep({ db: db(), ...who, lossFn: "importance_sampling" });
    const { row } = await recordSdpoStep({ db: db(), ...who, lossFn: "importance_sampling" }, async () => ({
      status: "trained" as const,
      metrics: { loss: 1 },
      step: 1,
    }));
    expect(row.status).toBe("done");
    expect(await getTrainingStepForOwner({ db: db(), id: orphan.id, ownerId: who.ownerId })).toMatchObject({
      status: "failed",
      error: "skipped: interrupted: left queued by a process that stopped",
    });
  });
});
