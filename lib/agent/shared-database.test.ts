/**
 * Two instances on one PostgreSQL database, for real: two agent hosts (lib/agent/host-entry.ts)
 * in their own processes with the same DATABASE_URL, each taking over dead instances' work as a
 * server does, and a follower in this process reading the conversation's events as the SSE
 * route does. A policy trained in one instance and then in the other advances one step at a
 * time from the newest state; a tool run that one instance started is left to it while it
 * lives, and taken over (interrupted, not re-run) by the other once it is killed and its lease
 * expires; the follower sees every event, whichever instance wrote it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { DbHandle } from "@/lib/db/client";
import { listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { listEventsAfter } from "@/lib/db/queries/events";
import { getLease } from "@/lib/db/queries/leases";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { type FollowedEvent, followConversationEvents } from "@/lib/conversation-page/event-follower";
import type { AgentEvent } from "./events";
import { TASKS, TEACH_SPEC, TEST_MODEL_NAME, TEST_SYSTEM_PROMPT } from "./test-fixtures";
import { setUpUser, type TestUser } from "./test-harness";
import { type Database, Host, postgresDatabase } from "./test-host";
import { taughtTestModel, type Taught } from "./test-model";

const LEASE_TTL_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))("two instances on one PostgreSQL database", () => {
  let taught: Taught;
  let database: Database;
  let handle: DbHandle;
  let t: TestUser;
  let a: Host;
  let b: Host;

  beforeAll(async () => {
    taught = await taughtTestModel(TEACH_SPEC, await getRenderer(TEST_MODEL_NAME));
    database = await postgresDatabase(process.env.TEST_DATABASE_URL!);
    handle = await database.open();
    t = await setUpUser({ db: handle.db, taught });
    const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-shared-states-"));
    const options = {
      models: { [TEST_MODEL_NAME]: taught.modelDir },
      statesDir,
      systemPrompt: TEST_SYSTEM_PROMPT,
      tools: "none",
      leaseTtlMs: LEASE_TTL_MS,
      watchOrphans: true,
    };
    a = Host.start(database, options);
    b = Host.start(database, options);
    await Promise.all([a.ready, b.ready]);
  }, 600_000);

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await handle?.close();
    await database?.drop();
  });

  const owner = () => t.user.id;
  const proposalIn = async (host: Host, conversationId: string, after = 0) =>
    (await host.waitFor(
      (e) => e.conversationId === conversationId && e.type === "proposal" && e.id > after,
    )) as AgentEvent<"proposal">;
  const startTask = async (host: Host, task: string) => {
    const conv = (await host.call("startConversation", { ownerId: owner(), workspaceId: t.workspace.id })).id as string;
    await host.call("sendUserMessage", { ownerId: owner(), conversationId: conv, text: task });
    return { conv, proposal: await proposalIn(host, conv) };
  };
  const doneSteps = async () =>
    (await listTrainingStepsByOwner({ db: handle.db, ownerId: owner(), policyId: t.policy.id })).filter(
      (s) => s.status === "done",
    );

  it("a policy trained in one instance, then in the other, takes each step once, from the newest state", async () => {
    // Each instance samples a conversation of its own, so each has the policy open at step 0.
    const [inA, inB] = await Promise.all([startTask(a, TASKS.write), startTask(b, TASKS.write)]);
    const deny = (host: Host, proposal: AgentEvent<"proposal">, correction: string) =>
      host.call("decide", {
        ownerId: owner(),
        toolCallId: proposal.payload.toolCallId,
        decision: { kind: "deny", correction },
      });

    await deny(a, inA.proposal, "Write good, not bad.");
    await until("A's step", async () => (await doneSteps()).length === 1);
    await a.call("idle"); // A's queue run is over and its lease given up
    // B's step is queued in B; with the policy's lease free, B trains it, from A's new state.
    await deny(b, inB.proposal, "Put good in b.txt.");
    await until("B's step", async () => (await doneSteps()).length === 2);
    await Promise.all([a.call("idle"), b.call("idle")]);

    const steps = await listTrainingStepsByOwner({ db: handle.db, ownerId: owner(), policyId: t.policy.id });
    expect(steps.map((s) => [s.status, s.step])).toEqual([
      ["done", 1],
      ["done", 2],
    ]);
    expect((await getPolicyForOwner({ db: handle.db, id: t.policy.id, ownerId: owner() }))!.step).toBe(2);
    expect(
      (await listCheckpointsByPolicy({ db: handle.db, ownerId: owner(), policyId: t.policy.id })).map((c) => c.step),
    ).toEqual([2, 1, 0]);
    for (const [conv, step] of [
      [inA.conv, steps[0]!],
      [inB.conv, steps[1]!],
    ] as const) {
      const [correction, ...more] = await listCorrectionsByConversation({
        db: handle.db,
        ownerId: owner(),
        conversationId: conv,
      });
      expect(more).toEqual([]);
      expect(correction!.trainingStepId).toBe(step.id);
    }
    // Each instance announced the step it ran: the trainer was A, then B.
    const announced = (host: Host, id: string) =>
      host.events.some(
        (e) => e.type === "training_step" && e.payload.trainingStepId === id && e.payload.status === "done",
      );
    expect([announced(a, steps[0]!.id), announced(b, steps[0]!.id)]).toEqual([true, false]);
    expect([announced(a, steps[1]!.id), announced(b, steps[1]!.id)]).toEqual([false, true]);
  }, 240_000);

  it("a tool run is left to the instance running it while it lives, taken over when it dies, and a follower sees every event", async () => {
    const ranFile = path.join(t.dir, "ran");
    fs.rmSync(ranFile, { force: true });
    const { conv, proposal } = await startTask(a, TASKS.slow);
    const followed: FollowedEvent[] = [];
    // As the SSE route follows a conversation, in a process that publishes none of its events.
    const follower = followConversationEvents({
      db: handle.db,
      ownerId: owner(),
      conversationId: conv,
      afterEventId: 0,
      send: (e) => followed.push(e),
      subscribe: () => () => {},
      pollMs: 100,
    });
    try {
      // A's driver gives up the conversation's lease once the proposal is out; until then a
      // decision elsewhere is left to A (the lease's holder), so wait for that first.
      await a.call("idle");
      // Proposed in A, approved through B: B takes the conversation's lease and runs the call.
      await b.call("decide", {
        ownerId: owner(),
        toolCallId: proposal.payload.toolCallId,
        decision: { kind: "approve" },
      });
      await until("the command to start", async () => fs.existsSync(ranFile));
      const lease = await getLease({ db: handle.db, resource: { kind: "conversation", id: conv } });
      expect(lease?.holder).toContain(`:${b.pid}:`);

      // Three lease lifetimes later A, sweeping for orphans all along, has left it alone, and so
      // has the start-up recovery a server runs (as if A had just started).
      await sleep(3 * LEASE_TTL_MS);
      expect(await a.call("recoverAll")).toMatchObject({ interruptedToolCalls: 0 });
      const [call] = await listToolCallsByConversation({ db: handle.db, ownerId: owner(), conversationId: conv });
      expect(call?.status).toBe("executing");
      expect((await getLease({ db: handle.db, resource: { kind: "conversation", id: conv } }))?.holder).toBe(
        lease?.holder,
      );

      const killedAt = Date.now();
      await b.kill();
      const interrupted = await until(
        "the takeover",
        async () => followed.find((e) => e.type === "result" && e.payload.interrupted === true),
        30_000,
      );
      const takeoverMs = Date.now() - killedAt;
      expect(takeoverMs).toBeLessThan(LEASE_TTL_MS + 5_000);
      console.log(JSON.stringify({ takeoverMs, leaseTtlMs: LEASE_TTL_MS }));

      await until("the state event", async () =>
        followed.some((e) => e.type === "state" && e.payload.state === "failed" && e.id > interrupted.id),
      );
      await follower.caughtUp();
      const stored = await listEventsAfter({
        db: handle.db,
        ownerId: owner(),
        conversationId: conv,
        afterId: 0,
        limit: 1000,
      });
      expect(followed.map((e) => e.id)).toEqual(stored.map((e) => e.id));
      // Written by three hands: the proposal by A, the run's start by B, the interruption by A.
      const by = (host: Host, id: number) => host.events.some((e) => e.id === id);
      const started = followed.find((e) => e.type === "tool_started")!;
      expect([by(a, proposal.id), by(b, proposal.id)]).toEqual([true, false]);
      expect([by(a, started.id), by(b, started.id)]).toEqual([false, true]);
      expect([by(a, interrupted.id), by(b, interrupted.id)]).toEqual([true, false]);

      expect(
        (await listToolCallsByConversation({ db: handle.db, ownerId: owner(), conversationId: conv }))[0]?.status,
      ).toBe("interrupted");
      expect((await getConversationForOwner({ db: handle.db, id: conv, ownerId: owner() }))?.state).toBe("failed");
      expect(fs.readFileSync(ranFile, "utf8")).toBe("x\n"); // not run again
    } finally {
      follower.stop();
    }
  }, 240_000);
});
