/**
 * Adapter history on the real embedded engine: every trained step is a new version numbered on
 * from the last; an undo, restore or reset is a version too (the axis never runs backwards), and
 * each brings back the weights it names bit for bit (the same log-probs to the last bit).
 */
import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { resolveConfig } from "@/lib/config/resolve";
import type { Config } from "@/lib/config";
import { listVersionsByPolicy } from "@/lib/db/queries/adapter-versions";
import { listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep, listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { forEachDriver } from "@/lib/db/test-db";
import type { Policy } from "@/lib/db/schema";
import type { StepBatch } from "@/lib/sdpo";
import type { LiveTrainers } from "@/lib/training/checkpoint-actions";
import { getTimeline, lineage, resetToBase, restoreVersion, undoVersion, versionsSince } from "./adapter-history";
import { PolicyRuntime, type OpenedPolicy } from "./policy-runtime";
import { TEST_MODEL_NAME } from "./test-fixtures";
import { setUpUser, TEST_SETTINGS, useTaughtBackend } from "./test-harness";

forEachDriver("adapter history", (db) => {
  const env = useTaughtBackend("history");

  const prompt = () =>
    env.renderer.renderPrompt([{ role: "user", content: "Say hi" }], [], { addGenerationPrompt: true }).tokens;
  /** The scored sequence every version is compared on: the prompt and a fixed reply. */
  const probe = () => [
    ...prompt(),
    ...env.renderer.renderPrompt([{ role: "assistant", content: "Hi there!" }], [], { addGenerationPrompt: false })
      .tokens,
  ];

  /** One denial of whatever the policy samples now, taught against a fixed correction. */
  async function denial(opened: OpenedPolicy): Promise<StepBatch> {
    const p = prompt();
    const seq = (await opened.sampler.sample(p, { maxTokens: 8, temperature: 0, stop: env.renderer.stopTokens }))
      .sequences[0]!;
    const teacher = env.renderer.renderPrompt(
      [
        { role: "user", content: "Say hi" },
        { role: "user", content: "Answer in one word." },
      ],
      [],
      { addGenerationPrompt: true },
    ).tokens;
    return {
      denials: [
        {
          promptTokens: p,
          completionTokens: seq.tokens,
          samplingLogprobs: seq.logprobs,
          teacherPromptTokens: teacher,
          hasSolution: false,
        },
      ],
      rewards: [],
    };
  }

  type Setup = {
    runtime: PolicyRuntime;
    ownerId: string;
    policyId: string;
    config: Config;
    live: LiveTrainers;
    fresh: () => Promise<Policy>;
  };

  async function setUp(settings: Record<string, unknown> = {}): Promise<Setup> {
    const runtime = new PolicyRuntime({ db: db(), backend: env.backend });
    const t = await setUpUser({ db: db(), taught: env.taught });
    const config = resolveConfig({ user: { ...TEST_SETTINGS, learningRate: 1e-2, ...settings } }).config;
    const live: LiveTrainers = { saveState: async () => null, forget: (id) => runtime.forget(id) };
    const fresh = async () => (await getPolicyForOwner({ db: db(), id: t.policy.id, ownerId: t.user.id }))!;
    return { runtime, ownerId: t.user.id, policyId: t.policy.id, config, live, fresh };
  }

  async function trainOne(s: Setup): Promise<number> {
    await enqueueTrainingStep({ db: db(), ownerId: s.ownerId, policyId: s.policyId, lossFn: "importance_sampling" });
    const result = await s.runtime.runNext({
      policy: await s.fresh(),
      config: s.config,
      build: (_row, opened) => denial(opened),
    });
    if (result?.status !== "done") throw new Error(`the step did not train: ${JSON.stringify(result)}`);
    return result.row.step!;
  }

  async function logprobs(s: Setup): Promise<(number | null)[]> {
    return s.runtime.use(await s.fresh(), s.config, (opened) => opened.sampler.computeLogprobs(probe()));
  }

  it("numbers each trained step as a new version and never reuses a number after an undo", async () => {
    const s = await setUp();
    expect([await trainOne(s), await trainOne(s), await trainOne(s)]).toEqual([1, 2, 3]);
    expect(await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 2, live: s.live })).toEqual(
      { status: "done", version: 4, replayed: 0 },
    );
    expect(await trainOne(s)).toBe(5);
    const versions = await listVersionsByPolicy({ db: db(), ownerId: s.ownerId, policyId: s.policyId });
    expect(versions.map((v) => [v.number, v.event, v.sourceVersion, v.optimizerStep])).toEqual([
      [1, "trained", 0, 1],
      [2, "trained", 1, 2],
      [3, "trained", 2, 3],
      [4, "undo", 1, 1],
      [5, "trained", 4, 2],
    ]);
    // The step axis: the done steps' numbers only grow.
    const steps = (await listTrainingStepsByOwner({ db: db(), ownerId: s.ownerId, policyId: s.policyId })).map(
      (r) => r.step,
    );
    expect(steps).toEqual([1, 2, 3, 5]);
    expect(lineage(versions)).toEqual([1, 5]);
    expect((await s.fresh()).version).toBe(5);
  }, 300_000);

  it("undoes a step to exactly the weights of the version before it: identical log-probs", async () => {
    const s = await setUp();
    await trainOne(s);
    const atOne = await logprobs(s);
    await trainOne(s);
    await trainOne(s);
    const atThree = await logprobs(s);
    expect(atThree).not.toEqual(atOne); // the steps did move the weights
    await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 2, live: s.live });
    const undone = await logprobs(s);
    expect(undone).toEqual(atOne);
    expect(undone.every((x, i) => Object.is(x, atOne[i]))).toBe(true);
    // And forward again: restoring version 3 gives its log-probs back to the bit.
    expect(
      (await restoreVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 3, live: s.live })).status,
    ).toBe("done");
    expect(await logprobs(s)).toEqual(atThree);
  }, 300_000);

  it("resets to the base model's own log-probs, and the next step trains from there", async () => {
    const s = await setUp();
    await trainOne(s);
    const base = await (await env.backend.createSamplingClient({ baseModel: TEST_MODEL_NAME })).computeLogprobs(
      probe(),
    );
    expect(await logprobs(s)).not.toEqual(base);
    expect(await resetToBase({ db: db(), ownerId: s.ownerId, policyId: s.policyId, live: s.live })).toEqual({
      status: "done",
      version: 2,
      replayed: 0,
    });
    expect(await logprobs(s)).toEqual(base);
    expect(await trainOne(s)).toBe(3);
    const versions = await listVersionsByPolicy({ db: db(), ownerId: s.ownerId, policyId: s.policyId });
    expect(versions.find((v) => v.number === 3)).toMatchObject({
      event: "trained",
      sourceVersion: 2,
      optimizerStep: 1,
    });
    expect(lineage(versions)).toEqual([3]);
  }, 300_000);

  it("undo with replay queues the later steps again, on their own corrections, without the undone one", async () => {
    const s = await setUp();
    for (let i = 0; i < 4; i++) await trainOne(s);
    const started: string[] = [];
    const live: LiveTrainers = { ...s.live, train: (policyId) => started.push(policyId) };
    expect(
      await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 2, replay: true, live }),
    ).toEqual({ status: "done", version: 5, replayed: 2 });
    expect(started).toEqual([s.policyId]);
    const steps = await listTrainingStepsByOwner({ db: db(), ownerId: s.ownerId, policyId: s.policyId });
    const byVersion = new Map(steps.filter((r) => r.step !== null).map((r) => [r.step!, r.id]));
    expect(steps.filter((r) => r.status === "queued").map((r) => r.replayOf)).toEqual([
      byVersion.get(3),
      byVersion.get(4),
    ]);
    // While the replays wait, nothing else may move the weights.
    expect(await resetToBase({ db: db(), ownerId: s.ownerId, policyId: s.policyId, live })).toEqual({ status: "busy" });
    await trainOne(s).catch(() => undefined); // runs the first replay (the enqueue in trainOne adds one more behind)
    const timeline = (await getTimeline({ db: db(), ownerId: s.ownerId, policyId: s.policyId }))!;
    expect(timeline.entries.map((e) => [e.version, e.event, e.inCurrent, e.replay])).toEqual([
      [1, "trained", true, false],
      [2, "trained", false, false],
      [3, "trained", false, false],
      [4, "trained", false, false],
      [5, "undo", false, false],
      [6, "trained", true, true],
    ]);
  }, 300_000);

  it("keeps the newest versions' weights and every --save-every one, and refuses to restore one it let go", async () => {
    const s = await setUp({ keepVersions: 2, saveEvery: 3 });
    for (let i = 0; i < 5; i++) await trainOne(s);
    const versions = await listVersionsByPolicy({ db: db(), ownerId: s.ownerId, policyId: s.policyId });
    expect(versions.map((v) => [v.number, v.checkpointId !== null])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, true],
      [5, true],
    ]);
    const stepCheckpoints = (
      await listCheckpointsByPolicy({ db: db(), ownerId: s.ownerId, policyId: s.policyId })
    ).filter((c) => c.origin === "step");
    expect(stepCheckpoints.map((c) => c.version).sort()).toEqual([3, 4, 5]);
    for (const c of stepCheckpoints) expect(fs.existsSync(c.path)).toBe(true);
    // The files of versions 1 and 2 are gone with their rows.
    const dirs = fs
      .readdirSync(path.dirname(stepCheckpoints[0]!.path))
      .filter((n) => n.startsWith("version-"))
      .sort();
    expect(dirs).toEqual(["version-000003", "version-000004", "version-000005"]);
    expect(
      await restoreVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 1, live: s.live }),
    ).toEqual({ status: "not_kept" });
    expect(await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 3, live: s.live })).toEqual(
      { status: "not_kept" },
    );
    expect(
      (await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 4, live: s.live })).status,
    ).toBe("done");
  }, 300_000);

  it("offers the trained versions in the current weights since a moment, newest first, with their corrections", async () => {
    const s = await setUp();
    await trainOne(s);
    const since = new Date();
    await new Promise((r) => setTimeout(r, 5));
    await trainOne(s);
    await trainOne(s);
    expect(
      (await versionsSince({ db: db(), ownerId: s.ownerId, policyId: s.policyId, since })).map((v) => v.version),
    ).toEqual([3, 2]);
    await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 3, live: s.live });
    expect(
      (await versionsSince({ db: db(), ownerId: s.ownerId, policyId: s.policyId, since })).map((v) => v.version),
    ).toEqual([2]);
    expect(await undoVersion({ db: db(), ownerId: s.ownerId, policyId: s.policyId, version: 3, live: s.live })).toEqual(
      { status: "not_in_current" },
    );
  }, 300_000);

  it("finds nothing of another user's policy", async () => {
    const s = await setUp();
    const other = await setUp();
    await trainOne(s);
    expect(
      await undoVersion({ db: db(), ownerId: other.ownerId, policyId: s.policyId, version: 1, live: s.live }),
    ).toEqual({ status: "not_found" });
    expect(await resetToBase({ db: db(), ownerId: other.ownerId, policyId: s.policyId, live: s.live })).toEqual({
      status: "not_found",
    });
    expect(await getTimeline({ db: db(), ownerId: other.ownerId, policyId: s.policyId })).toBeNull();
  }, 300_000);
});
