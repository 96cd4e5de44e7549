/**
 * The agent loop end to end on a real model: the taught test model proposes through real sampling,
 * real tools run in the real sandbox, corrections train real SDPO steps on the embedded engine,
 * and everything is read back from the database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import { listAllowRulesByOwner } from "@/lib/db/queries/allow-rules";
import { listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { listEventsAfter } from "@/lib/db/queries/events";
import { listMessagesByConversation } from "@/lib/db/queries/messages";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { Message } from "@/lib/db/schema";
import { forEachDriver } from "@/lib/db/test-db";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { Agent } from "./agent";
import { replayAndSubscribe } from "./events";
import { REPLIES, TASKS, TEACH_SPEC, TEST_MODEL_NAME, TEST_SYSTEM_PROMPT } from "./test-fixtures";
import { setUpUser, TEST_SETTINGS, type TestUser } from "./test-harness";
import { taughtTestModel, type Taught } from "./test-model";
import { answerCorrectionMessage, deniedToolResult } from "./tool-messages";
import { buildSystemPrompt } from "./system-prompt";
import { TOOL_SPECS } from "@/lib/tools";
import { NUDGE_TEXT } from "./turn";
import { elisionMarker } from "./context";

forEachDriver("the agent loop", (db) => {
  let renderer: Renderer;
  let taught: Taught;
  let backend: EmbeddedBackend;
  let agent: Agent;
  let statesDir: string;

  beforeAll(async () => {
    renderer = await getRenderer(TEST_MODEL_NAME);
    taught = await taughtTestModel(TEACH_SPEC, renderer);
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-agent-states-"));
    backend = createEmbeddedBackend({ models: { [TEST_MODEL_NAME]: { dir: taught.modelDir } }, statesDir });
    agent = new Agent({ db: db(), backend, tools: [], systemPrompt: () => TEST_SYSTEM_PROMPT });
  }, 600_000);
  afterAll(async () => {
    await agent?.idle();
    await backend?.close();
    if (statesDir) fs.rmSync(statesDir, { recursive: true, force: true });
  });

  async function begin(settings: Record<string, unknown> = {}, files?: Record<string, string>) {
    const t = await setUpUser({ db: db(), taught, settings, files });
    const conv = await agent.startConversation({ ownerId: t.user.id, workspaceId: t.workspace.id });
    return { ...t, conv };
  }
  async function say(t: TestUser & { conv: { id: string } }, text: string) {
    const result = await agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text });
    await agent.idle();
    return result;
  }
  const rowsOf = (t: TestUser & { conv: { id: string } }) =>
    listMessagesByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
  const callsOf = (t: TestUser & { conv: { id: string } }) =>
    listToolCallsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
  const stateOf = async (t: TestUser & { conv: { id: string } }) =>
    (await getConversationForOwner({ db: db(), id: t.conv.id, ownerId: t.user.id }))!.state;
  const eventsOf = (t: TestUser & { conv: { id: string } }) =>
    listEventsAfter({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
  const promptText = (m: Message) => renderer.tokenizer.decode(m.promptTokens ?? []);
  const assistants = (rows: Message[]) => rows.filter((r) => r.role === "assistant");

  it("a reply without a tool call ends the turn, and /c starts a new episode that samples the same prompt again", async () => {
    const t = await begin();
    await say(t, TASKS.text);
    const first = await rowsOf(t);
    expect(first.map((r) => [r.role, r.content])).toEqual([
      ["system", TEST_SYSTEM_PROMPT],
      ["user", TASKS.text],
      ["assistant", REPLIES.text],
    ]);
    expect(await stateOf(t)).toBe("idle");
    expect(await say(t, "/c")).toMatchObject({ kind: "cleared" });
    await say(t, TASKS.text);
    const rows = await rowsOf(t);
    const [a1, a2] = assistants(rows);
    expect(rows.map((r) => r.role)).toEqual(["system", "user", "assistant", "system", "user", "assistant"]);
    expect(a2!.content).toBe(REPLIES.text);
    expect(a2!.promptTokens).toEqual(a1!.promptTokens);
    expect((await getConversationForOwner({ db: db(), id: t.conv.id, ownerId: t.user.id }))!.task).toBe(TASKS.text);
  });

  it("refuses a task longer than the prompt budget with the numbers, storing nothing", async () => {
    const t = await begin();
    const before = { rows: await rowsOf(t), events: await eventsOf(t) };
    const task = Array.from({ length: 50_000 }, () => "x").join(" ");
    const result = await say(t, task);
    const window = (await backend.listModels()).find((m) => m.modelName === TEST_MODEL_NAME)!.maxContextLength!;
    const promptTokens = renderer.renderPrompt(
      [
        { role: "system", content: TEST_SYSTEM_PROMPT },
        { role: "user", content: task },
      ],
      [],
      { addGenerationPrompt: true },
    ).tokens.length;
    expect(result).toEqual({ kind: "too_long", promptTokens, budget: window - TEST_SETTINGS.maxTokens });
    expect(promptTokens).toBeGreaterThan(window);
    expect(await rowsOf(t)).toEqual(before.rows);
    expect(await eventsOf(t)).toEqual(before.events);
    expect(await stateOf(t)).toBe("idle");
    // A message that fits still goes through afterwards.
    await say(t, TASKS.text);
    expect(assistants(await rowsOf(t)).map((r) => r.content)).toEqual([REPLIES.text]);
  });

  it("a later message counts against the budget with the task and system prompt it must be sent with", async () => {
    const t = await begin();
    await say(t, TASKS.text);
    const window = (await backend.listModels()).find((m) => m.modelName === TEST_MODEL_NAME)!.maxContextLength!;
    const budget = window - TEST_SETTINGS.maxTokens;
    // The prompt that must hold the message: system prompt, task, a marker for the reply between, the message.
    const held = (text: string) =>
      renderer.renderPrompt(
        [
          { role: "system", content: TEST_SYSTEM_PROMPT },
          { role: "user", content: TASKS.text },
          { role: "user", content: elisionMarker(1) },
          { role: "user", content: text },
        ],
        [],
        { addGenerationPrompt: true },
      ).tokens.length;
    const words = (n: number) => Array.from({ length: n }, () => "x").join(" ");
    // "x x x …" is one token a word: the message one word past the budget.
    const n = budget - held(words(1)) + 2;
    expect(held(words(n))).toBe(budget + 1);
    const rowsBefore = await rowsOf(t);
    expect(await agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: words(n) })).toEqual({
      kind: "too_long",
      promptTokens: budget + 1,
      budget,
    });
    expect(await rowsOf(t)).toEqual(rowsBefore);
  });

  it("an answer ends the task visibly, and correcting it trains one SDPO step on the answer before the agent answers again", async () => {
    const t = await begin();
    await say(t, TASKS.text);
    const answer = assistants(await rowsOf(t))[0]!;
    expect((await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id })).awaiting).toEqual({
      kind: "answer",
      messageId: answer.id,
    });
    const correction = "You created nothing: call write first.";
    const out = await agent.correctAnswer({
      ownerId: t.user.id,
      conversationId: t.conv.id,
      messageId: answer.id,
      correction,
    });
    await agent.idle();
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({
      id: out.correctionId,
      kind: "answer",
      toolCallId: null,
      text: correction,
      trainingStepId: out.trainingStepId,
    });
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ id: out.trainingStepId, status: "done", step: 1, lossFn: "importance_sampling" });
    expect(step!.metrics).toMatchObject({ sdpo_step: 1, sdpo_denied_count: 1 });
    const rows = await rowsOf(t);
    const carrier = rows.find((r) => r.role === "user" && r.meta?.kind === "correction")!;
    expect(carrier).toMatchObject({
      content: answerCorrectionMessage({ correction }),
      meta: { kind: "correction", correctionId: corr!.id, answerMessageId: answer.id },
    });
    const again = assistants(rows).find((r) => r.seq > carrier.seq)!;
    expect(again.meta).toMatchObject({ policyStep: 1 });
    expect(promptText(again)).toContain(answerCorrectionMessage({ correction }));
    // Only the answer the task ended with is open to correction.
    await expect(
      agent.correctAnswer({ ownerId: t.user.id, conversationId: t.conv.id, messageId: answer.id, correction }),
    ).rejects.toMatchObject({ code: "conflict:message" });
  });

  it("by default the prompt holds the built system prompt, naming the sandbox's working directory, and every tool", async () => {
    const plain = new Agent({ db: db(), backend });
    const t = await setUpUser({ db: db(), taught });
    const conv = await plain.startConversation({ ownerId: t.user.id, workspaceId: t.workspace.id });
    await plain.sendUserMessage({ ownerId: t.user.id, conversationId: conv.id, text: TASKS.text });
    await plain.idle();
    const rows = await listMessagesByConversation({ db: db(), ownerId: t.user.id, conversationId: conv.id });
    expect(rows[0]).toMatchObject({ role: "system", content: buildSystemPrompt({ cwd: "/workspace" }) });
    const prompt = promptText(assistants(rows)[0]!);
    expect(prompt).toContain("Working directory: /workspace");
    for (const spec of TOOL_SPECS) expect(prompt).toContain(`"name": "${spec.name}"`);
  });

  it("approve: the proposed call runs, its result is observed, and the model samples again with it in context", async () => {
    const t = await begin();
    await say(t, TASKS.read);
    expect(await stateOf(t)).toBe("proposed");
    const view = await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id });
    expect(view.awaiting).toMatchObject({
      kind: "decision",
      toolCall: { name: "read", args: REPLIES.read.args, status: "proposed" },
    });
    await agent.decide({ ownerId: t.user.id, toolCallId: view.toolCalls[0]!.id, decision: { kind: "approve" } });
    await agent.idle();
    const [call] = await callsOf(t);
    expect(call).toMatchObject({ status: "succeeded", name: "read", result: { success: true } });
    expect(call!.result!.output).toContain("hello from a");
    const rows = await rowsOf(t);
    const tool = rows.find((r) => r.role === "tool")!;
    expect(tool.content).toContain("hello from a");
    const next = assistants(rows).find((r) => r.seq > tool.seq);
    expect(next).toBeDefined();
    expect(promptText(next!)).toContain("hello from a");
    const types = (await eventsOf(t)).map((e) => e.type);
    expect(types.indexOf("proposal")).toBeLessThan(types.indexOf("decision"));
    expect(types.indexOf("decision")).toBeLessThan(types.indexOf("tool_started"));
    expect(types.indexOf("tool_started")).toBeLessThan(types.indexOf("result"));
    await expect(
      agent.decide({ ownerId: t.user.id, toolCallId: call!.id, decision: { kind: "approve" } }),
    ).rejects.toMatchObject({ code: "conflict:tool_call" });
  });

  it("/c while a proposal waits is refused with what to do first, and clears nothing", async () => {
    const t = await begin();
    await say(t, TASKS.read);
    const rows = await rowsOf(t);
    await expect(
      agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: "/c" }),
    ).rejects.toMatchObject({
      code: "conflict:conversation",
      message: "A proposed call is waiting for your decision: approve, deny or edit it, then clear.",
    });
    expect(await rowsOf(t)).toEqual(rows);
    expect(await stateOf(t)).toBe("proposed");
  });

  it("deny with a correction queues one SDPO step; the retry samples after it, with the new weights and the denied record in context", async () => {
    const t = await begin();
    await say(t, TASKS.write);
    const [proposed] = await callsOf(t);
    expect(proposed).toMatchObject({ name: "write", args: REPLIES.write.args, status: "proposed" });
    const correction = "Write good into b.txt instead.";
    const decided = await agent.decide({
      ownerId: t.user.id,
      toolCallId: proposed!.id,
      decision: { kind: "deny", correction },
    });
    await agent.idle();
    expect(fs.existsSync(path.join(t.dir, "b.txt"))).toBe(false);
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({
      kind: "denial",
      text: correction,
      toolCallId: proposed!.id,
      trainingStepId: decided.trainingStepId,
    });
    const steps = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({
      id: decided.trainingStepId,
      status: "done",
      step: 1,
      lossFn: "importance_sampling",
    });
    expect(steps[0]!.metrics).toMatchObject({ sdpo_step: 1, sdpo_denied_count: 1 });
    expect((await getPolicyForOwner({ db: db(), id: t.policy.id, ownerId: t.user.id }))!.step).toBe(1);
    expect(
      (await listCheckpointsByPolicy({ db: db(), ownerId: t.user.id, policyId: t.policy.id })).map((c) => c.step),
    ).toEqual([1, 0]);
    const rows = await rowsOf(t);
    const denied = rows.find((r) => r.role === "tool")!;
    expect(denied.content).toBe(deniedToolResult({ correction }));
    const retry = assistants(rows).find((r) => r.seq > denied.seq)!;
    expect(retry.createdAt.getTime()).toBeGreaterThanOrEqual(steps[0]!.finishedAt!.getTime());
    expect(retry.meta).toMatchObject({ policyStep: 1 });
    expect(promptText(retry)).toContain(deniedToolResult({ correction }));
    const metrics = await agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: "/metrics" });
    expect(metrics).toMatchObject({ kind: "metrics", trainingStepId: steps[0]!.id, metrics: { sdpo_step: 1 } });
  });

  it("after a step its version is scored on the user's probes in the background, once the retry is proposed, and the scores are stored with the step", async () => {
    const t = await begin();
    await say(t, TASKS.write);
    const [proposed] = await callsOf(t);
    const decided = await agent.decide({
      ownerId: t.user.id,
      toolCallId: proposed!.id,
      decision: { kind: "deny", correction: "Write good into b.txt instead." },
    });
    await agent.idle();
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ id: decided.trainingStepId, status: "done", step: 1 });
    // One correction probe (the denied write), no approved call yet.
    expect(step!.metrics).toMatchObject({ "probe/count": 1, "guard/flagged": 0, "guard/rolled_back": 0 });
    expect(step!.metrics!["probe/corrections_kept"]).toBeTypeOf("number");
    expect(step!.metrics!["probe/approved_kept"]).toBeUndefined();
    const events = await eventsOf(t);
    const probe = events.findIndex((e) => e.type === "probe");
    const retryProposal = events.findLastIndex(
      (e) => e.type === "message" && (e.payload as { role?: string }).role === "assistant",
    );
    expect(probe).toBeGreaterThan(retryProposal);
    expect(events[probe]!.payload).toMatchObject({
      trainingStepId: step!.id,
      step: 1,
      probes: 1,
      flagged: false,
      action: null,
      reasons: [],
    });
  });

  it("with the guard set to reject, a step that loses the approved calls is undone and the user is told", async () => {
    const t = await begin({ guardAction: "reject" });
    // An approved read is the retention probe; a denied write trains version 1, which keeps it.
    await say(t, TASKS.read);
    const [read] = await callsOf(t);
    await agent.decide({ ownerId: t.user.id, toolCallId: read!.id, decision: { kind: "approve" } });
    await agent.idle();
    await agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: "/c" });
    await say(t, TASKS.write);
    const write = (await callsOf(t)).find((c) => c.name === "write" && c.status === "proposed")!;
    await agent.decide({
      ownerId: t.user.id,
      toolCallId: write.id,
      decision: { kind: "deny", correction: "Write good into b.txt instead." },
    });
    await agent.idle();
    const [first] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(first!.metrics).toMatchObject({ "probe/approved_kept": 1, "guard/flagged": 0 });
    // A rate far past any sane one wrecks the next version's first moves.
    await saveUserSettings({
      db: db(),
      userId: t.user.id,
      settings: { ...TEST_SETTINGS, guardAction: "reject", learningRate: 1 },
    });
    await agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: "/c" });
    await say(t, TASKS.write);
    const again = (await callsOf(t)).find((c) => c.status === "proposed")!;
    await agent.decide({
      ownerId: t.user.id,
      toolCallId: again.id,
      decision: { kind: "deny", correction: "Write good into b.txt instead." },
    });
    await agent.idle();
    const second = (await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id })).find((s) => s.step === 2)!;
    expect(second.metrics).toMatchObject({ "guard/flagged": 1, "guard/rolled_back": 1, "probe/approved_kept": 0 });
    const policy = (await getPolicyForOwner({ db: db(), id: t.policy.id, ownerId: t.user.id }))!;
    expect(policy.version).toBe(3);
    const told = (await eventsOf(t)).find(
      (e) => e.type === "error" && (e.payload as { kind?: string }).kind === "guard_rejected",
    )!;
    expect(told.payload).toMatchObject({ step: 2, rolledBackTo: 3 });
    expect(String((told.payload as { message: string }).message)).toContain("Approved behaviour kept fell 100 points");
  });

  it("with probes off, a step is not scored", async () => {
    const t = await begin({ probeCount: 0 });
    await say(t, TASKS.write);
    const [proposed] = await callsOf(t);
    await agent.decide({
      ownerId: t.user.id,
      toolCallId: proposed!.id,
      decision: { kind: "deny", correction: "Write good into b.txt instead." },
    });
    await agent.idle();
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step!.status).toBe("done");
    expect(Object.keys(step!.metrics!).filter((k) => k.startsWith("probe/"))).toEqual([]);
    expect((await eventsOf(t)).some((e) => e.type === "probe")).toBe(false);
  });

  it("edit: the edited arguments run exactly as edited and are the demonstration of a training step", async () => {
    const t = await begin();
    await say(t, TASKS.write);
    const [proposed] = await callsOf(t);
    const edited = { path: "b.txt", content: "good" };
    await expect(
      agent.decide({
        ownerId: t.user.id,
        toolCallId: proposed!.id,
        decision: { kind: "edit", args: { path: "b.txt" } },
      }),
    ).rejects.toMatchObject({ code: "bad_request:tool_call" });
    await agent.decide({ ownerId: t.user.id, toolCallId: proposed!.id, decision: { kind: "edit", args: edited } });
    await agent.idle();
    expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe("good");
    const [call] = await callsOf(t);
    expect(call).toMatchObject({ status: "succeeded", args: REPLIES.write.args, editedArgs: edited });
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({
      kind: "edit",
      solution: 'Approved tool call:\nwrite({"content":"good","path":"b.txt"})',
    });
    expect(corr!.text).toContain("content");
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ id: corr!.trainingStepId, status: "done", step: 1 });
    expect(step!.metrics!["credit/solution_coverage"]).toBe(1);
  });

  it("a tool failure requires a correction, prefilled with the tool's hint, and trains with the error output", async () => {
    const t = await begin({}, {});
    await say(t, TASKS.read);
    const [proposed] = await callsOf(t);
    await agent.decide({ ownerId: t.user.id, toolCallId: proposed!.id, decision: { kind: "approve" } });
    await agent.idle();
    expect(await stateOf(t)).toBe("failed");
    const view = await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id });
    expect(view.awaiting?.kind).toBe("failure_correction");
    const failed = view.toolCalls[0]!;
    expect(failed.status).toBe("failed");
    const hint = failed.result!.feedback!;
    expect(view.awaiting).toMatchObject({ suggestion: hint });
    expect(hint.length).toBeGreaterThan(0);
    await agent.submitFailureCorrection({ ownerId: t.user.id, toolCallId: failed.id });
    await agent.idle();
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({ kind: "tool_failure", text: hint, environmentFeedback: failed.result!.output });
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ id: corr!.trainingStepId, status: "done" });
    const rows = await rowsOf(t);
    const correctionMsg = rows.find((r) => r.role === "user" && r.meta?.kind === "correction")!;
    expect(correctionMsg.content).toContain(hint);
    expect(assistants(rows).some((r) => r.seq > correctionMsg.seq)).toBe(true);
    await expect(
      agent.submitFailureCorrection({ ownerId: t.user.id, toolCallId: failed.id, correction: "again" }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^conflict:/) });
  });

  it("a command that ran as asked and exited non-zero is an observation: no correction is asked, and the agent samples again with its output", async () => {
    const t = await begin({}, {});
    await say(t, TASKS.slow);
    const [proposed] = await callsOf(t);
    await agent.decide({
      ownerId: t.user.id,
      toolCallId: proposed!.id,
      decision: { kind: "edit", args: { cmd: "echo 'FAILED: test_add'; exit 1" } },
    });
    await agent.idle();
    const [call] = await callsOf(t);
    expect(call).toMatchObject({ status: "observed", result: { success: false, exitCode: 1 } });
    const view = await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id });
    expect(view.awaiting?.kind).not.toBe("failure_correction");
    const events = await eventsOf(t);
    expect(events.filter((e) => e.type === "error").map((e) => (e.payload as { kind?: string }).kind)).not.toContain(
      "tool_failure",
    );
    const result = events.findIndex((e) => e.type === "result");
    expect(events[result]!.payload).toMatchObject({ outcome: "observation", success: false });
    // The conversation moves on (to the edit's training step, or straight to sampling when that step
    // finished while the command ran) instead of waiting for a correction.
    expect(["training", "sampling"]).toContain(
      (events.slice(result).find((e) => e.type === "state")!.payload as { state: string }).state,
    );
    const rows = await rowsOf(t);
    const tool = rows.find((r) => r.role === "tool")!;
    const next = assistants(rows).find((r) => r.seq > tool.seq);
    expect(promptText(next!)).toContain("FAILED: test_add");
  });

  it("several tool calls at once get at most two nudges, then a visible error", async () => {
    const t = await begin();
    await say(t, TASKS.both);
    const rows = await rowsOf(t);
    expect(rows.slice(1).map((r) => [r.role, r.role === "user" ? r.content : r.meta?.multipleToolCalls])).toEqual([
      ["user", TASKS.both],
      ["assistant", 2],
      ["user", NUDGE_TEXT],
      ["assistant", 2],
      ["user", NUDGE_TEXT],
      ["assistant", 2],
    ]);
    expect(await callsOf(t)).toEqual([]);
    expect(await stateOf(t)).toBe("failed");
    expect((await eventsOf(t)).filter((e) => e.type === "error").map((e) => e.payload.kind)).toEqual([
      "multiple_tool_calls",
    ]);
  });

  it("a reply cut off by the token limit is stored as a parse error, shown, and the user can retry or continue", async () => {
    const t = await begin({ maxTokens: 6 });
    await say(t, TASKS.write);
    expect(await stateOf(t)).toBe("failed");
    let rows = await rowsOf(t);
    const broken = assistants(rows)[0]!;
    expect(broken.meta).toMatchObject({ parseError: { reason: "truncated" }, excluded: true });
    expect(broken.completionTokens).toHaveLength(6);
    expect(broken.content).toBe(renderer.tokenizer.decode(broken.completionTokens!));
    expect(
      (await eventsOf(t)).some(
        (e) => e.type === "error" && e.payload.kind === "parse_error" && e.payload.messageId === broken.id,
      ),
    ).toBe(true);
    await agent.resumeConversation({ ownerId: t.user.id, conversationId: t.conv.id });
    await agent.idle();
    rows = await rowsOf(t);
    expect(assistants(rows).map((r) => r.meta?.parseError?.reason)).toEqual(["truncated", "truncated"]);
    await saveUserSettings({ db: db(), userId: t.user.id, settings: { ...TEST_SETTINGS } });
    await say(t, TASKS.text);
    rows = await rowsOf(t);
    const last = assistants(rows).at(-1)!;
    expect(last.seq).toBeGreaterThan(rows.find((r) => r.content === TASKS.text)!.seq);
    expect(promptText(last)).toContain(TASKS.write);
    expect(promptText(last)).toContain(TASKS.text);
    expect(promptText(last)).not.toContain(broken.content);
  });

  it("a reply that could not be read can be corrected like an answer: one step trains on its tokens, then the agent samples again with the correction in context", async () => {
    const t = await begin({ maxTokens: 6 });
    await say(t, TASKS.write);
    const broken = assistants(await rowsOf(t))[0]!;
    const view = await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id });
    expect(view.awaiting).toMatchObject({ kind: "unreadable", messageId: broken.id });
    expect(view.awaiting?.kind === "unreadable" && view.awaiting.reason).toContain("could not be read");
    const correction = "Make one call: write b.txt.";
    const out = await agent.correctAnswer({
      ownerId: t.user.id,
      conversationId: t.conv.id,
      messageId: broken.id,
      correction,
    });
    await agent.idle();
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({ id: out.correctionId, kind: "answer", toolCallId: null, text: correction });
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ id: out.trainingStepId, status: "done", step: 1 });
    expect(step!.metrics).toMatchObject({ sdpo_denied_count: 1 });
    const rows = await rowsOf(t);
    const carrier = rows.find((r) => r.role === "user" && r.meta?.kind === "correction")!;
    expect(carrier.meta).toMatchObject({ answerMessageId: broken.id });
    const again = assistants(rows).find((r) => r.seq > carrier.seq)!;
    expect(again.meta).toMatchObject({ policyStep: 1 });
    expect(promptText(again)).toContain(answerCorrectionMessage({ correction }));
    // The same reply is not open to a second correction.
    await expect(
      agent.correctAnswer({ ownerId: t.user.id, conversationId: t.conv.id, messageId: broken.id, correction }),
    ).rejects.toMatchObject({ code: "conflict:message" });
  });

  it("read-only calls are auto-approved with autoApproveReadonly, and the step cap ends the task", async () => {
    const t = await begin({ autoApproveReadonly: true, maxSteps: 1 });
    await say(t, TASKS.read);
    const calls = await callsOf(t);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ status: "succeeded", autoReason: "readonly" });
    const rows = await rowsOf(t);
    expect(rows.at(-1)!.role).toBe("tool");
    expect(await stateOf(t)).toBe("idle");
    expect((await eventsOf(t)).filter((e) => e.type === "error").map((e) => e.payload.kind)).toEqual(["step_cap"]);
    expect((await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id })).awaiting).toEqual({
      kind: "stopped",
      reason: "Stopped after 1 tool calls (the step cap, maxSteps).",
    });
  });

  it("approve with 'always allow' stores a rule, and a matching call later runs without asking", async () => {
    const t = await begin({ maxSteps: 1 });
    await say(t, TASKS.write);
    const [first] = await callsOf(t);
    await agent.decide({
      ownerId: t.user.id,
      toolCallId: first!.id,
      decision: { kind: "approve", remember: { kind: "path", pattern: "*.txt" } },
    });
    await agent.idle();
    const [rule] = await listAllowRulesByOwner({ db: db(), ownerId: t.user.id });
    expect(rule).toMatchObject({ tool: "write", kind: "path", pattern: "*.txt" });
    await say(t, "/c");
    fs.rmSync(path.join(t.dir, "b.txt"));
    await say(t, TASKS.write);
    const second = (await callsOf(t))[1]!;
    expect(second).toMatchObject({ status: "succeeded", autoReason: `rule:${rule!.id}` });
    expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe("bad");
  });

  it("with RL on, an approved call trains one reward step (+1) on its completion", async () => {
    const t = await begin({ enableRl: true, maxSteps: 1 });
    await say(t, TASKS.read);
    const [proposed] = await callsOf(t);
    const decided = await agent.decide({ ownerId: t.user.id, toolCallId: proposed!.id, decision: { kind: "approve" } });
    await agent.idle();
    const [corr] = await listCorrectionsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
    expect(corr).toMatchObject({ kind: "approval", toolCallId: proposed!.id, trainingStepId: decided.trainingStepId });
    const [step] = await listTrainingStepsByOwner({ db: db(), ownerId: t.user.id });
    expect(step).toMatchObject({ status: "done", lossFn: "importance_sampling" });
    expect(step!.metrics).toMatchObject({ sdpo_reward_only_count: 1, sdpo_denied_count: 0 });
    expect((await callsOf(t))[0]!.status).toBe("succeeded");
  });

  it("events are stored with increasing ids, published live, and a reconnect replays exactly what it missed", async () => {
    const t = await begin();
    await say(t, TASKS.text);
    const before = await eventsOf(t);
    const live: number[] = [];
    const stop = agent.core.events.subscribe(t.conv.id, 0, (e) => live.push(e.id));
    await say(t, "/c");
    await say(t, TASKS.text);
    stop();
    const all = await eventsOf(t);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((a, b) => a - b));
    expect(live).toEqual(all.slice(before.length).map((e) => e.id));
    const middle = all[3]!.id;
    const replayed: number[] = [];
    const stopReplay = await replayAndSubscribe({
      db: db(),
      bus: agent.core.events,
      ownerId: t.user.id,
      conversationId: t.conv.id,
      afterEventId: middle,
      listener: (e) => replayed.push(e.id),
    });
    await say(t, "/c");
    stopReplay();
    expect(replayed).toEqual((await eventsOf(t)).filter((e) => e.id > middle).map((e) => e.id));
    expect(all.map((e) => e.type)).toEqual(expect.arrayContaining(["message", "tokens", "state"]));
    // The view's last event id is the newest stored one.
    const view = await agent.getConversationView({ ownerId: t.user.id, conversationId: t.conv.id });
    expect(view.lastEventId).toBe((await eventsOf(t)).at(-1)!.id);
  });

  it("a reply streams as text deltas kept in memory while it is sampled; they join to the stored final text, which comes last", async () => {
    const t = await begin();
    const deltas: string[] = [];
    let draftAtEnd: string | null | undefined;
    const stopDeltas = agent.core.events.subscribeDeltas(t.conv.id, (d) => deltas.push(d.payload.text));
    const stopFinal = agent.core.events.subscribe(t.conv.id, 0, (e) => {
      if (e.type === "tokens") draftAtEnd = agent.core.events.draft(t.conv.id);
    });
    await say(t, TASKS.write);
    stopDeltas();
    stopFinal();
    const events = await eventsOf(t);
    const tokens = events.filter((e) => e.type === "tokens");
    // Only the final text is stored; the draft it replaces is gone from memory.
    expect(tokens.map((e) => e.payload.final)).toEqual([true]);
    expect(draftAtEnd).toBeNull();
    const final = tokens[0]!;
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.join("")).toBe(final.payload.text);
    expect(final.payload.text).toContain('"b.txt"');
    const reply = events.findIndex((e) => e.type === "message" && e.payload.role === "assistant");
    expect(events.indexOf(final)).toBeLessThan(reply);
  });

  it("another user's conversation and tool call ids are not found, and malformed input is a bad request", async () => {
    const t = await begin();
    await say(t, TASKS.write);
    const [call] = await callsOf(t);
    const other = await setUpUser({ db: db(), taught, name: "other" });
    const me = other.user.id;
    await expect(agent.sendUserMessage({ ownerId: me, conversationId: t.conv.id, text: "hi" })).rejects.toMatchObject({
      code: "not_found:conversation",
    });
    await expect(agent.getConversationView({ ownerId: me, conversationId: t.conv.id })).rejects.toMatchObject({
      code: "not_found:conversation",
    });
    await expect(agent.resumeConversation({ ownerId: me, conversationId: t.conv.id })).rejects.toMatchObject({
      code: "not_found:conversation",
    });
    await expect(
      agent.decide({ ownerId: me, toolCallId: call!.id, decision: { kind: "approve" } }),
    ).rejects.toMatchObject({ code: "not_found:tool_call" });
    await expect(agent.submitFailureCorrection({ ownerId: me, toolCallId: call!.id })).rejects.toMatchObject({
      code: "not_found:tool_call",
    });
    await expect(agent.startConversation({ ownerId: me, workspaceId: t.workspace.id })).rejects.toMatchObject({
      code: "not_found:workspace",
    });
    await expect(
      agent.decide({ ownerId: t.user.id, toolCallId: call!.id, decision: { kind: "deny", correction: "   " } }),
    ).rejects.toMatchObject({ code: "bad_request:api" });
    await expect(
      agent.sendUserMessage({ ownerId: t.user.id, conversationId: t.conv.id, text: "busy?" }),
    ).rejects.toMatchObject({ code: "conflict:conversation" });
    expect((await callsOf(t))[0]!.status).toBe("proposed");
  });
});
