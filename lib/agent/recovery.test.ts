/**
 * Crash recovery, for real: the agent runs in a child process (lib/agent/host-entry.ts) over a
 * PGlite data directory (and a PostgreSQL database when TEST_DATABASE_URL is set) and is killed with SIGKILL while four conversations stand in four phases
 * at once: one awaiting a decision, one inside a tool run (bash sleep), one with a training step
 * queued, one whose step is training. A second process recovers; the database must then hold
 * every message, decision, correction and step exactly once, the interrupted call marked
 * interrupted and never re-run, and each correction trained by exactly one finished step.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import { listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { listMessagesByConversation } from "@/lib/db/queries/messages";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { AgentEvent } from "./events";
import { INTERRUPTED_TOOL_TEXT } from "./recovery";
import { TASKS, TEACH_SPEC, TEST_MODEL_NAME, TEST_SYSTEM_PROMPT } from "./test-fixtures";
import { setUpUser, type TestUser } from "./test-harness";
import { type Database, Host, pgliteDatabase, postgresDatabase, untilLeasesExpire } from "./test-host";
import { taughtTestModel, type Taught } from "./test-model";

let taught: Taught;
let root: string;

beforeAll(async () => {
  taught = await taughtTestModel(TEACH_SPEC, await getRenderer(TEST_MODEL_NAME));
  root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-agent-crash-"));
}, 600_000);
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const drivers: Array<{ name: string; make: () => Promise<Database> }> = [
  { name: "pglite", make: async () => pgliteDatabase(path.join(root, "data")) },
];
if (process.env.TEST_DATABASE_URL)
  drivers.push({ name: "postgres", make: () => postgresDatabase(process.env.TEST_DATABASE_URL!) });

it.each(drivers)(
  "a SIGKILL in every phase loses nothing and doubles nothing; the interrupted call is not re-run and each correction trains once ($name)",
  async ({ make }) => {
    const database = await make();
    try {
      await crashAndRecover(database);
    } finally {
      await database.drop();
    }
  },
  180_000,
);

async function crashAndRecover(database: Database): Promise<void> {
  // A short lease: on PostgreSQL the killed host's leases must expire before another takes over.
  const options = {
    models: { [TEST_MODEL_NAME]: taught.modelDir },
    statesDir: fs.mkdtempSync(path.join(root, "states-")),
    systemPrompt: TEST_SYSTEM_PROMPT,
    tools: "none",
    leaseTtlMs: 1000,
  };

  // 1. A user, a workspace and a policy starting from the taught state, then the database closes.
  const setup = await database.open();
  let t: TestUser;
  try {
    t = await setUpUser({ db: setup.db, taught });
  } finally {
    await setup.close();
  }
  const owner = t.user.id;
  const ranFile = path.join(t.dir, "ran");

  // 2. Four conversations brought to four phases.
  const first = Host.start(database, options);
  await first.ready;
  const conv: Record<"A" | "B" | "C" | "D", string> = { A: "", B: "", C: "", D: "" };
  const tasks = { A: TASKS.write, B: TASKS.slow, C: TASKS.write, D: TASKS.write };
  for (const k of ["A", "B", "C", "D"] as const) {
    conv[k] = (await first.call("startConversation", { ownerId: owner, workspaceId: t.workspace.id })).id;
    await first.call("sendUserMessage", { ownerId: owner, conversationId: conv[k], text: tasks[k] });
  }
  const proposal = async (k: keyof typeof conv) =>
    ((await first.waitFor((e) => e.conversationId === conv[k] && e.type === "proposal")) as AgentEvent<"proposal">)
      .payload.toolCallId;
  const calls = { A: await proposal("A"), B: await proposal("B"), C: await proposal("C"), D: await proposal("D") };
  await first.call("decide", { ownerId: owner, toolCallId: calls.B, decision: { kind: "approve" } });
  await first.waitFor((e) => e.conversationId === conv.B && e.type === "tool_started");
  while (!fs.existsSync(ranFile)) await new Promise((r) => setTimeout(r, 20));
  const denyD = first.send("decide", {
    ownerId: owner,
    toolCallId: calls.D,
    decision: { kind: "deny", correction: "Put good in b.txt." },
  });
  const denyC = first.send("decide", {
    ownerId: owner,
    toolCallId: calls.C,
    decision: { kind: "deny", correction: "Write good, not bad." },
  });
  const [dReply, cReply] = await Promise.all([denyD, denyC]);
  expect([dReply.ok, cReply.ok]).toEqual([true, true]);
  const running = await first.waitFor((e) => e.type === "training_step" && e.payload.status === "running");
  const doneBeforeKill = first.events.filter((e) => e.type === "training_step" && e.payload.status === "done");
  await first.kill();
  const seenMessages = first.events.filter((e) => e.type === "message").map((e) => e.payload.messageId as string);

  // The kill landed while D's step trained and C's waited behind it, with B's sleep running.
  expect(running.conversationId).toBe(conv.D);
  expect(doneBeforeKill).toEqual([]);
  expect(fs.readFileSync(ranFile, "utf8")).toBe("x\n");

  // 3. Restart: recover, let everything settle, then decide the proposal that waited all along.
  const second = Host.start(database, options);
  await second.ready;
  await untilLeasesExpire(database);
  const report = await second.call("recoverAll");
  expect(report).toMatchObject({ requeuedSteps: 1, interruptedToolCalls: 1 });
  await second.call("idle");
  const viewA = await second.call("getConversationView", { ownerId: owner, conversationId: conv.A });
  expect(viewA.awaiting).toMatchObject({ kind: "decision", toolCall: { id: calls.A } });
  await second.call("decide", { ownerId: owner, toolCallId: calls.A, decision: { kind: "approve" } });
  await second.call("idle");
  await second.call("exit");
  expect(await second.exited).toBe(0);

  // 4. What the database holds.
  const check = await database.open();
  try {
    const db = check.db;
    const messages = async (k: keyof typeof conv) =>
      listMessagesByConversation({ db, ownerId: owner, conversationId: conv[k] });
    const toolCalls = async (k: keyof typeof conv) =>
      listToolCallsByConversation({ db, ownerId: owner, conversationId: conv[k] });
    const corrections = async (k: keyof typeof conv) =>
      listCorrectionsByConversation({ db, ownerId: owner, conversationId: conv[k] });
    const allIds = new Set<string>();
    for (const k of ["A", "B", "C", "D"] as const) {
      const rows = await messages(k);
      for (const r of rows) allIds.add(r.id);
      expect(rows.filter((r) => r.role === "user").map((r) => r.content)).toEqual([tasks[k]]);
      expect(rows.filter((r) => r.role === "system")).toHaveLength(1);
      expect((await toolCalls(k))[0]!.id).toBe(calls[k]);
    }
    expect(seenMessages.filter((id) => !allIds.has(id))).toEqual([]);

    // A: the proposal waited through the crash and ran once, when approved.
    expect((await toolCalls("A"))[0]).toMatchObject({ status: "succeeded" });
    expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe("bad");
    // B: interrupted, shown, not re-run.
    expect((await toolCalls("B"))[0]).toMatchObject({ status: "interrupted" });
    expect((await messages("B")).filter((r) => r.role === "tool").map((r) => r.content)).toEqual([
      INTERRUPTED_TOOL_TEXT,
    ]);
    expect((await getConversationForOwner({ db, id: conv.B, ownerId: owner }))!.state).toBe("failed");
    expect(fs.readFileSync(ranFile, "utf8")).toBe("x\n");
    // C and D: one correction each, trained by exactly one finished step.
    const steps = await listTrainingStepsByOwner({ db, ownerId: owner });
    for (const k of ["C", "D"] as const) {
      const [c, ...more] = await corrections(k);
      expect(more).toEqual([]);
      expect(c).toMatchObject({ kind: "denial", toolCallId: calls[k] });
      const done = steps.filter((s) => s.conversationId === conv[k] && s.status === "done");
      expect(done.map((s) => s.id)).toEqual([c!.trainingStepId]);
      expect((await toolCalls(k))[0]).toMatchObject({ status: "denied" });
    }
    // D's interrupted step failed as such and was queued again; no step was applied twice.
    expect(steps.filter((s) => s.status === "failed").map((s) => [s.conversationId, s.error])).toEqual([
      [conv.D, expect.stringMatching(/interrupted/)],
    ]);
    expect(
      steps
        .filter((s) => s.status === "done")
        .map((s) => s.step)
        .sort(),
    ).toEqual([1, 2]);
    expect((await getPolicyForOwner({ db, id: t.policy.id, ownerId: owner }))!.step).toBe(2);
    expect((await listCheckpointsByPolicy({ db, ownerId: owner, policyId: t.policy.id })).map((c) => c.step)).toEqual([
      2, 1, 0,
    ]);
  } finally {
    await check.close();
  }
}
