import { expect, it, vi } from "vitest";
import { EventBus, publishEvent } from "@/lib/agent/events";
import type { StepView } from "@/lib/charts/series";
import type { Db } from "@/lib/db/client";
import { createConversation } from "@/lib/db/queries/conversations";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { claimNextQueued, enqueueTrainingStep, markTrainingStepDone } from "@/lib/db/queries/training-steps";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { listLatestStepsForOwner, listMetricKeysForOwner } from "@/lib/db/queries/training-steps";
import { watchOwnerSteps } from "./step-feed";

forEachDriver("training-step feed", (db) => {
  async function owner(d: Db) {
    const u = await makeUser(d);
    const p = await getOrCreatePolicy({ db: d, ownerId: u.id, baseModel: "m", backend: "embedded", loraRank: 4 });
    return { u, p };
  }

  function collect() {
    const bus = new EventBus();
    const snapshots: StepView[][] = [];
    const changes: StepView[] = [];
    const errors: unknown[] = [];
    return {
      bus,
      subscribe: (listener: Parameters<EventBus["subscribeAll"]>[0]) => bus.subscribeAll(listener),
      snapshots,
      changes,
      errors,
      onSnapshot: (s: StepView[]) => snapshots.push(s),
      onChanges: (s: StepView[]) => changes.push(...s),
      onError: (e: unknown) => errors.push(e),
    };
  }

  it("the snapshot holds the latest steps of the user only, oldest first", async () => {
    const a = await owner(db());
    const b = await owner(db());
    const mine = [];
    for (let i = 0; i < 3; i++)
      mine.push(
        await enqueueTrainingStep({ db: db(), ownerId: a.u.id, policyId: a.p.id, lossFn: "importance_sampling" }),
      );
    await enqueueTrainingStep({ db: db(), ownerId: b.u.id, policyId: b.p.id, lossFn: "importance_sampling" });
    const c = collect();
    const abort = new AbortController();
    await watchOwnerSteps({ db: db(), ownerId: a.u.id, replay: 2, intervalMs: 60_000, signal: abort.signal, ...c });
    abort.abort();
    expect(c.snapshots).toHaveLength(1);
    expect(c.snapshots[0]!.map((s) => s.id)).toEqual([mine[1]!.id, mine[2]!.id]);
  });

  it("a published training_step event pushes the finished step with its metrics", async () => {
    const a = await owner(db());
    const ws = await createWorkspace({ db: db(), ownerId: a.u.id, name: "w", path: `/tmp/feed-${a.u.id}` });
    const conv = await createConversation({ db: db(), ownerId: a.u.id, workspaceId: ws.id, policyId: a.p.id });
    const queued = await enqueueTrainingStep({
      db: db(),
      ownerId: a.u.id,
      policyId: a.p.id,
      lossFn: "importance_sampling",
    });
    const c = collect();
    const abort = new AbortController();
    // The timer is far away: only the event can deliver the change.
    await watchOwnerSteps({ db: db(), ownerId: a.u.id, intervalMs: 600_000, signal: abort.signal, ...c });
    const claimed = await claimNextQueued({ db: db(), policyId: a.p.id });
    expect(claimed?.id).toBe(queued.id);
    await markTrainingStepDone({ db: db(), id: queued.id, step: 1, metrics: { loss: 0.5, sdpo_kl: 0.01 } });
    await publishEvent({
      db: db(),
      bus: c.bus,
      ownerId: a.u.id,
      conversationId: conv.id,
      type: "training_step",
      payload: { trainingStepId: queued.id, status: "done", step: 1, lossFn: "importance_sampling", error: null },
    });
    await vi.waitFor(() => expect(c.changes.some((s) => s.status === "done")).toBe(true));
    abort.abort();
    const done = c.changes.find((s) => s.status === "done")!;
    expect({ id: done.id, step: done.step, metrics: done.metrics }).toEqual({
      id: queued.id,
      step: 1,
      metrics: { loss: 0.5, sdpo_kl: 0.01 },
    });
    expect(c.errors).toEqual([]);
  });

  it("without any event the slow re-check still delivers a change made elsewhere", async () => {
    const a = await owner(db());
    const c = collect();
    const abort = new AbortController();
    await watchOwnerSteps({ db: db(), ownerId: a.u.id, intervalMs: 25, signal: abort.signal, ...c });
    const row = await enqueueTrainingStep({
      db: db(),
      ownerId: a.u.id,
      policyId: a.p.id,
      lossFn: "importance_sampling",
    });
    await vi.waitFor(() => expect(c.changes.map((s) => [s.id, s.status])).toContainEqual([row.id, "queued"]));
    await claimNextQueued({ db: db(), policyId: a.p.id });
    await vi.waitFor(() => expect(c.changes.map((s) => [s.id, s.status])).toContainEqual([row.id, "running"]));
    abort.abort();
    // Each state was sent once, not on every re-check.
    expect(c.changes.filter((s) => s.id === row.id).map((s) => s.status)).toEqual(["queued", "running"]);
  });

  it("another user's step never reaches the feed", async () => {
    const a = await owner(db());
    const b = await owner(db());
    const c = collect();
    const abort = new AbortController();
    await watchOwnerSteps({ db: db(), ownerId: a.u.id, intervalMs: 25, signal: abort.signal, ...c });
    await enqueueTrainingStep({ db: db(), ownerId: b.u.id, policyId: b.p.id, lossFn: "importance_sampling" });
    const mine = await enqueueTrainingStep({
      db: db(),
      ownerId: a.u.id,
      policyId: a.p.id,
      lossFn: "importance_sampling",
    });
    await vi.waitFor(() => expect(c.changes.map((s) => s.id)).toContain(mine.id));
    abort.abort();
    expect(c.changes.every((s) => s.policyId === a.p.id)).toBe(true);
  });

  it("metric keys are the union of the user's logged keys, sorted", async () => {
    const a = await owner(db());
    const b = await owner(db());
    for (const [o, metrics] of [
      [a, { loss: 1, "credit/adv_mean": 2 }],
      [a, { sdpo_kl: 3 }],
      [b, { secret_metric: 4 }],
    ] as const) {
      const row = await enqueueTrainingStep({
        db: db(),
        ownerId: o.u.id,
        policyId: o.p.id,
        lossFn: "importance_sampling",
      });
      await claimNextQueued({ db: db(), policyId: o.p.id });
      await markTrainingStepDone({ db: db(), id: row.id, step: 1, metrics });
    }
    expect(await listMetricKeysForOwner({ db: db(), ownerId: a.u.id })).toEqual(["credit/adv_mean", "loss", "sdpo_kl"]);
    expect((await listLatestStepsForOwner({ db: db(), ownerId: b.u.id, limit: 10 })).map((s) => s.ownerId)).toEqual([
      b.u.id,
    ]);
  });
});
