import { expect, it } from "vitest";
import { forEachDriver, makeUser } from "../test-db";
import {
  claimNextQueued,
  enqueueTrainingStep,
  getTrainingStepForOwner,
  listTeamTraining,
  listTrainingStepsByOwner,
  markTrainingStepDone,
  markTrainingStepFailed,
  failStaleTrainingSteps,
} from "./training-steps";
import { getOrCreatePolicy, getPolicyForOwner } from "./policies";
import { createWorkspace } from "./workspaces";
import { createConversation } from "./conversations";
import { createCorrection, listCorrectionsByTrainingStep } from "./corrections";
import type { Db } from "../client";

forEachDriver("training steps", (db) => {
  async function ownerWithPolicy(d: Db, name = "default") {
    const u = await makeUser(d);
    const p = await getOrCreatePolicy({
      db: d,
      ownerId: u.id,
      name,
      baseModel: "m",
      backend: "embedded",
      loraRank: 8,
    });
    return { u, p };
  }

  /** Claims until the queue is empty, finishing each step so its policy's next one can run. */
  async function drain(d: Db, claimers: number): Promise<string[]> {
    const claimed: string[] = [];
    for (;;) {
      const rows = await Promise.all(Array.from({ length: claimers }, () => claimNextQueued({ db: d })));
      const got = rows.filter((r) => r !== null);
      if (got.length === 0) return claimed;
      for (const r of got) {
        claimed.push(r.id);
        await markTrainingStepDone({ db: d, id: r.id, step: 1, metrics: {} });
      }
    }
  }

  it("concurrent claimers run each queued step exactly once", async () => {
    const owners = await Promise.all([0, 1, 2, 3].map(() => ownerWithPolicy(db())));
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) {
      for (const { u, p } of owners) {
        queued.push(
          (
            await enqueueTrainingStep({
              db: db(),
              ownerId: u.id,
              policyId: p.id,
              lossFn: "importance_sampling",
            })
          ).id,
        );
      }
    }
    const claimed = await drain(db(), 6);
    expect(claimed.length).toBe(new Set(claimed).size);
    const mine = new Set(queued);
    expect(claimed.filter((id) => mine.has(id)).sort()).toEqual([...queued].sort());
  });

  it("a policy's steps run one at a time, oldest first", async () => {
    const { u, p } = await ownerWithPolicy(db());
    const s1 = await enqueueTrainingStep({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      lossFn: "importance_sampling",
    });
    const s2 = await enqueueTrainingStep({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      lossFn: "importance_sampling",
    });

    const first = await claimNextQueued({ db: db(), policyId: p.id });
    expect(first).toMatchObject({ id: s1.id, status: "running" });
    expect(first?.startedAt).toBeInstanceOf(Date);
    expect(await claimNextQueued({ db: db(), policyId: p.id })).toBeNull();

    const done = await markTrainingStepDone({
      db: db(),
      id: s1.id,
      step: 1,
      metrics: { loss: 0.5, sdpo_kl: 0.1 },
    });
    expect(done).toMatchObject({ status: "done", step: 1, metrics: { loss: 0.5, sdpo_kl: 0.1 } });
    expect((await getPolicyForOwner({ db: db(), id: p.id, ownerId: u.id }))?.step).toBe(1);

    expect((await claimNextQueued({ db: db(), policyId: p.id }))?.id).toBe(s2.id);
    const failed = await markTrainingStepFailed({ db: db(), id: s2.id, error: "out of memory" });
    expect(failed).toMatchObject({ status: "failed", error: "out of memory" });
    expect(await markTrainingStepDone({ db: db(), id: s2.id, step: 2, metrics: {} })).toBeNull();
    expect(await claimNextQueued({ db: db(), policyId: p.id })).toBeNull();
  });

  it("another user gets null for someone's steps and lists only their own", async () => {
    const a = await ownerWithPolicy(db());
    const b = await ownerWithPolicy(db());
    const step = await enqueueTrainingStep({
      db: db(),
      ownerId: a.u.id,
      policyId: a.p.id,
      lossFn: "cross_entropy",
    });
    expect(await getTrainingStepForOwner({ db: db(), id: step.id, ownerId: b.u.id })).toBeNull();
    expect(await listTrainingStepsByOwner({ db: db(), ownerId: b.u.id })).toEqual([]);
    expect(await getPolicyForOwner({ db: db(), id: a.p.id, ownerId: b.u.id })).toBeNull();
    expect((await getTrainingStepForOwner({ db: db(), id: step.id, ownerId: a.u.id }))?.lossFn).toBe("cross_entropy");
  });

  it("lists a policy's steps in queue order for their owner", async () => {
    const { u, p } = await ownerWithPolicy(db());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await enqueueTrainingStep({
            db: db(),
            ownerId: u.id,
            policyId: p.id,
            lossFn: "importance_sampling",
          })
        ).id,
      );
    }
    expect((await listTrainingStepsByOwner({ db: db(), ownerId: u.id, policyId: p.id })).map((s) => s.id)).toEqual(ids);
  });

  it("enqueueing links the step's corrections, only the owner's", async () => {
    const { u, p } = await ownerWithPolicy(db());
    const other = await makeUser(db());
    const ws = await createWorkspace({ db: db(), ownerId: u.id, name: "w", path: "/w" });
    const conv = await createConversation({ db: db(), ownerId: u.id, workspaceId: ws.id });
    const c = await createCorrection({
      db: db(),
      ownerId: u.id,
      conversationId: conv.id,
      kind: "denial",
      text: "wrong file",
    });
    const step = await enqueueTrainingStep({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      conversationId: conv.id,
      lossFn: "importance_sampling",
      correctionIds: [c.id],
    });
    const linked = await listCorrectionsByTrainingStep({ db: db(), trainingStepId: step.id });
    expect(linked.map((x) => [x.id, x.text])).toEqual([[c.id, "wrong file"]]);
    const otherPolicy = await getOrCreatePolicy({
      db: db(),
      ownerId: other.id,
      baseModel: "m",
      backend: "embedded",
      loraRank: 8,
    });
    const foreign = await enqueueTrainingStep({
      db: db(),
      ownerId: other.id,
      policyId: otherPolicy.id,
      lossFn: "importance_sampling",
      correctionIds: [c.id],
    });
    expect(await listCorrectionsByTrainingStep({ db: db(), trainingStepId: foreign.id })).toEqual([]);
  });

  it("getOrCreatePolicy returns the same row when raced", async () => {
    const u = await makeUser(db());
    const args = { db: db(), ownerId: u.id, baseModel: "m", backend: "tinker" as const, loraRank: 32 };
    const rows = await Promise.all([getOrCreatePolicy(args), getOrCreatePolicy(args), getOrCreatePolicy(args)]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
  });

  it("a step left running by a stopped process is failed, which lets its policy's queue move on", async () => {
    const { u, p } = await ownerWithPolicy(db());
    const s1 = await enqueueTrainingStep({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      lossFn: "importance_sampling",
    });
    const s2 = await enqueueTrainingStep({
      db: db(),
      ownerId: u.id,
      policyId: p.id,
      lossFn: "importance_sampling",
    });
    expect((await claimNextQueued({ db: db(), policyId: p.id }))?.id).toBe(s1.id);
    expect(await failStaleTrainingSteps({ db: db(), startedBefore: new Date(Date.now() - 3_600_000) })).toEqual([]);

    const failed = await failStaleTrainingSteps({ db: db(), startedBefore: new Date(Date.now() + 60_000) });
    expect(failed.filter((s) => s.policyId === p.id).map((s) => [s.id, s.status])).toEqual([[s1.id, "failed"]]);
    expect((await claimNextQueued({ db: db(), policyId: p.id }))?.id).toBe(s2.id);
  });

  it("the team's training lists every user, one who has trained nothing with no steps", async () => {
    const trained = await ownerWithPolicy(db());
    const idle = await makeUser(db(), "idle");
    const queuedOnly = await ownerWithPolicy(db());
    for (const loss of [3, 2]) {
      await enqueueTrainingStep({
        db: db(),
        ownerId: trained.u.id,
        policyId: trained.p.id,
        lossFn: "importance_sampling",
      });
      const claimed = await claimNextQueued({ db: db(), policyId: trained.p.id });
      await markTrainingStepDone({ db: db(), id: claimed!.id, step: 4 - loss, metrics: { loss } });
    }
    const failed = await enqueueTrainingStep({
      db: db(),
      ownerId: trained.u.id,
      policyId: trained.p.id,
      lossFn: "importance_sampling",
    });
    await markTrainingStepFailed({ db: db(), id: failed.id, error: "boom" });
    await enqueueTrainingStep({
      db: db(),
      ownerId: queuedOnly.u.id,
      policyId: queuedOnly.p.id,
      lossFn: "importance_sampling",
    });

    const team = await listTeamTraining({ db: db() });
    const mine = team.filter((m) => [trained.u.email, idle.email, queuedOnly.u.email].includes(m.email));
    expect(
      mine.map((m) => ({ email: m.email, steps: m.steps.map((s) => ({ step: s.step, metrics: s.metrics })) })),
    ).toEqual(
      [
        {
          email: trained.u.email,
          steps: [
            { step: 1, metrics: { loss: 3 } },
            { step: 2, metrics: { loss: 2 } },
          ],
        },
        { email: idle.email, steps: [] },
        { email: queuedOnly.u.email, steps: [] },
      ].sort((a, b) => (a.email < b.email ? -1 : 1)),
    );
    expect(team.map((m) => m.email)).toEqual([...team.map((m) => m.email)].sort());
  });
});
