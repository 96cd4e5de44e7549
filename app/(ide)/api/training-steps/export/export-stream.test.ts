import { expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import {
  claimNextQueued,
  enqueueTrainingStep,
  markTrainingStepDone,
  markTrainingStepFailed,
} from "@/lib/db/queries/training-steps";
import type { TrainingStep } from "@/lib/db/schema";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { stepExportStream } from "./export-stream";

async function read(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

forEachDriver("training-step export", (db) => {
  async function userWithSteps(d: Db, metrics: Record<string, number>[]) {
    const u = await makeUser(d);
    const p = await getOrCreatePolicy({ db: d, ownerId: u.id, baseModel: "m", backend: "embedded", loraRank: 4 });
    const rows: TrainingStep[] = [];
    for (const [i, m] of metrics.entries()) {
      const row = await enqueueTrainingStep({ db: d, ownerId: u.id, policyId: p.id, lossFn: "importance_sampling" });
      await claimNextQueued({ db: d, policyId: p.id });
      rows.push((await markTrainingStepDone({ db: d, id: row.id, step: i + 1, metrics: m }))!);
    }
    return { u, p, rows };
  }

  it("a user's CSV holds their steps only, in queue order across pages, with their metric keys as columns", async () => {
    const alice = await userWithSteps(db(), [
      { loss: 1 },
      { loss: 0.5, sdpo_kl: 0.1 },
      { "credit/adv_mean": -2 },
      { loss: 0.25 },
      { loss: 0.125 },
    ]);
    await userWithSteps(db(), [{ bobs_secret: 42 }]);
    const csv = await read(await stepExportStream({ db: db(), ownerId: alice.u.id, format: "csv", pageSize: 2 }));
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("id,step,status,queued_at,finished_at,credit/adv_mean,loss,sdpo_kl");
    expect(lines.slice(1, -1).map((l) => l.split(",")[0])).toEqual(alice.rows.map((r) => r.id));
    expect(lines.at(-1)).toBe("");
    const r = alice.rows[1]!;
    expect(lines[2]).toBe(`${r.id},2,done,${r.queuedAt.toISOString()},${r.finishedAt!.toISOString()},,0.5,0.1`);
    expect(csv).not.toContain("bobs_secret");
  });

  it("the JSON export is an array of flat records with null for metrics a step did not log", async () => {
    const alice = await userWithSteps(db(), [{ loss: 1 }, { sdpo_kl: 2 }]);
    const failed = await enqueueTrainingStep({
      db: db(),
      ownerId: alice.u.id,
      policyId: alice.p.id,
      lossFn: "importance_sampling",
    });
    await markTrainingStepFailed({ db: db(), id: failed.id, error: "boom" });
    const json = JSON.parse(
      await read(await stepExportStream({ db: db(), ownerId: alice.u.id, format: "json", pageSize: 2 })),
    ) as unknown[];
    expect(json).toEqual([
      {
        id: alice.rows[0]!.id,
        step: 1,
        status: "done",
        queued_at: alice.rows[0]!.queuedAt.toISOString(),
        finished_at: alice.rows[0]!.finishedAt!.toISOString(),
        loss: 1,
        sdpo_kl: null,
      },
      {
        id: alice.rows[1]!.id,
        step: 2,
        status: "done",
        queued_at: alice.rows[1]!.queuedAt.toISOString(),
        finished_at: alice.rows[1]!.finishedAt!.toISOString(),
        loss: null,
        sdpo_kl: 2,
      },
      {
        id: failed.id,
        step: null,
        status: "failed",
        queued_at: failed.queuedAt.toISOString(),
        finished_at: expect.any(String),
        loss: null,
        sdpo_kl: null,
      },
    ]);
  });

  it("a user with no steps gets the header alone as CSV and an empty JSON array", async () => {
    const u = await makeUser(db());
    expect(await read(await stepExportStream({ db: db(), ownerId: u.id, format: "csv" }))).toBe(
      "id,step,status,queued_at,finished_at\r\n",
    );
    expect(JSON.parse(await read(await stepExportStream({ db: db(), ownerId: u.id, format: "json" })))).toEqual([]);
  });
});
