/**
 * The conversation page's server side against a real Agent on the taught test model: the card's diff
 * is the real file against exactly what approving writes, an edited right side runs as the same
 * tool's arguments and leaves exactly the edited bytes, a denial's training step reaches the
 * page's stream (replayed from conversation_event, encoded and parsed as the SSE route does), and
 * a page opened while a reply is sampled continues its draft from the text kept in memory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Agent } from "@/lib/agent/agent";
import { replayAndSubscribe, type AgentEvent } from "@/lib/agent/events";
import { REPLIES, TASKS, TEACH_SPEC, TEST_MODEL_NAME, TEST_SYSTEM_PROMPT } from "@/lib/agent/test-fixtures";
import { setUpUser } from "@/lib/agent/test-harness";
import { taughtTestModel, type Taught } from "@/lib/agent/test-model";
import { getRenderer } from "@/lib/chat";
import { listEventsAfter } from "@/lib/db/queries/events";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { forEachDriver } from "@/lib/db/test-db";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { type Draft, type DraftEvent, draftAfterEvent, draftBeside } from "./draft";
import { loadDraft, loadSessionData, toolWhere } from "./page-data";
import { parseAgentEvents, sse } from "./sse";
import { argsForEditedText } from "./tool-preview";
import { followConversationEvents } from "./event-follower";

/** Sampling and an SDPO step on the test model are quick alone, but the machine's two cores are shared. */
const TEST_TIMEOUT_MS = 300_000;

forEachDriver("the conversation page's server side", (db) => {
  let taught: Taught;
  let backend: EmbeddedBackend;
  let agent: Agent;
  let statesDir: string;

  beforeAll(async () => {
    taught = await taughtTestModel(TEACH_SPEC, await getRenderer(TEST_MODEL_NAME));
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-session-states-"));
    backend = createEmbeddedBackend({ models: { [TEST_MODEL_NAME]: { dir: taught.modelDir } }, statesDir });
    agent = new Agent({ db: db(), backend, tools: [], systemPrompt: () => TEST_SYSTEM_PROMPT });
  }, 600_000);
  afterAll(async () => {
    await agent?.idle();
    await backend?.close();
    if (statesDir) fs.rmSync(statesDir, { recursive: true, force: true });
  }, 300_000);

  /** A conversation whose model has just proposed write(b.txt, "bad") over b.txt = "old\n". */
  async function proposedWrite() {
    const t = await setUpUser({ db: db(), taught, files: { "a.txt": "hello from a\n", "b.txt": "old\n" } });
    const conv = await agent.startConversation({ ownerId: t.user.id, workspaceId: t.workspace.id });
    await agent.sendUserMessage({ ownerId: t.user.id, conversationId: conv.id, text: TASKS.write });
    await agent.idle();
    const [call] = await listToolCallsByConversation({ db: db(), ownerId: t.user.id, conversationId: conv.id });
    expect(call).toMatchObject({ name: "write", args: REPLIES.write.args, status: "proposed" });
    return { ...t, conv, call: call! };
  }

  it(
    "the card's diff is the real file against exactly what approving writes",
    async () => {
      const t = await proposedWrite();
      const data = await loadSessionData(agent, t.user.id, t.conv.id);
      expect(data.view.awaiting).toMatchObject({ kind: "decision", toolCall: { id: t.call.id } });
      expect(data.preview).toEqual({
        toolCallId: t.call.id,
        preview: { kind: "diff", tool: "write", path: "b.txt", before: "old\n", after: "bad", newFile: false },
      });
      await agent.decide({ ownerId: t.user.id, toolCallId: t.call.id, decision: { kind: "approve" } });
      await agent.idle();
      expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe(
        data.preview!.preview.kind === "diff" ? data.preview!.preview.after : null,
      );
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an edited right side runs as the same tool's arguments, leaves exactly the edited bytes and trains a step",
    async () => {
      const t = await proposedWrite();
      const { where } = await toolWhere(agent, t.user.id, t.workspace.id);
      const edited = "good\nand more\n";
      const args = await argsForEditedText(where, t.call.name, t.call.args, edited);
      expect(args).toEqual({ ok: true, args: { path: "b.txt", content: edited } });
      if (!args.ok) return;
      const out = await agent.decide({
        ownerId: t.user.id,
        toolCallId: t.call.id,
        decision: { kind: "edit", args: args.args },
      });
      await agent.idle();
      expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe(edited);
      const data = await loadSessionData(agent, t.user.id, t.conv.id);
      expect(data.view.toolCalls[0]).toMatchObject({
        status: "succeeded",
        editedArgs: { path: "b.txt", content: edited },
      });
      expect(data.view.trainingSteps.find((s) => s.id === out.trainingStepId)).toMatchObject({
        status: "done",
        step: 1,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an edited write sent to another path writes the edited text there and leaves the proposed file alone",
    async () => {
      const t = await proposedWrite();
      const { where } = await toolWhere(agent, t.user.id, t.workspace.id);
      expect(await argsForEditedText(where, t.call.name, t.call.args, "x", "../outside.txt")).toMatchObject({
        ok: false,
      });
      const args = await argsForEditedText(where, t.call.name, t.call.args, "moved\n", "sub/c.txt");
      expect(args).toEqual({ ok: true, args: { path: "sub/c.txt", content: "moved\n" } });
      if (!args.ok) return;
      await agent.decide({ ownerId: t.user.id, toolCallId: t.call.id, decision: { kind: "edit", args: args.args } });
      await agent.idle();
      expect(fs.readFileSync(path.join(t.dir, "sub/c.txt"), "utf8")).toBe("moved\n");
      expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe("old\n");
      const [call] = await listToolCallsByConversation({ db: db(), ownerId: t.user.id, conversationId: t.conv.id });
      expect(call).toMatchObject({
        status: "succeeded",
        args: REPLIES.write.args,
        editedArgs: { path: "sub/c.txt", content: "moved\n" },
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "deny with a correction trains a step, and the page's stream replays proposal, decision and the step's progress in order",
    async () => {
      const t = await proposedWrite();
      const out = await agent.decide({
        ownerId: t.user.id,
        toolCallId: t.call.id,
        decision: { kind: "deny", correction: "Write good into b.txt instead." },
      });
      expect(out.trainingStepId).not.toBeNull();
      await agent.idle();
      expect(fs.readFileSync(path.join(t.dir, "b.txt"), "utf8")).toBe("old\n");

      const seen: AgentEvent[] = [];
      const unsubscribe = await replayAndSubscribe({
        db: db(),
        bus: agent.core.events,
        ownerId: t.user.id,
        conversationId: t.conv.id,
        afterEventId: 0,
        listener: (e) => seen.push(e),
      });
      unsubscribe();
      const streamed = parseAgentEvents(sse(seen));
      expect(streamed).toEqual(seen.map((e) => ({ id: e.id, type: e.type, payload: e.payload })));
      const steps = streamed.filter(
        (e) =>
          e.type === "training_step" &&
          (e.payload as { trainingStepId?: string }).trainingStepId === out.trainingStepId,
      );
      expect(steps.map((e) => (e.payload as { status: string }).status)).toEqual(["queued", "running", "done"]);
      const order = (type: string) => streamed.findIndex((e) => e.type === type);
      expect(order("proposal")).toBeLessThan(order("decision"));
      expect(order("decision")).toBeLessThan(order("training_step"));

      const data = await loadSessionData(agent, t.user.id, t.conv.id);
      expect(data.view.corrections[0]).toMatchObject({
        kind: "denial",
        text: "Write good into b.txt instead.",
        toolCallId: t.call.id,
      });
      expect(data.view.trainingSteps.find((s) => s.id === out.trainingStepId)?.metrics).toMatchObject({
        sdpo_step: 1,
        sdpo_denied_count: 1,
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "a page opened mid-reply gets the text so far from memory, its stream from there ends in the stored reply shown once, and no delta is stored",
    async () => {
      const t = await setUpUser({ db: db(), taught, files: { "a.txt": "hello from a\n", "b.txt": "old\n" } });
      const conv = await agent.startConversation({ ownerId: t.user.id, workspaceId: t.workspace.id });
      const bus = agent.core.events;
      let lastStored = 0;
      const stopStored = bus.subscribe(conv.id, 0, (e) => {
        lastStored = e.id;
      });
      // The page as it is read at the first delta: sampling, no reply stored yet; its stream
      // starts after the last stored event, as the SSE route's does.
      const sent: Array<{ id: number | null; type: string; payload: unknown }> = [];
      let opened: { draft: Draft | null; stop: () => void } | null = null;
      const stopDeltas = bus.subscribeDeltas(conv.id, () => {
        if (opened) return;
        const draft = loadDraft(bus, { conversation: { id: conv.id, state: "sampling" }, messages: [] });
        const follower = followConversationEvents({
          db: db(),
          ownerId: t.user.id,
          conversationId: conv.id,
          afterEventId: lastStored,
          send: (e) => sent.push(e),
          subscribe: (id, after, nudge) => bus.subscribe(id, after, nudge),
          deltas: { bus, send: (d) => sent.push(d) },
          pollMs: 60_000,
        });
        opened = { draft, stop: follower.stop };
      });
      await agent.sendUserMessage({ ownerId: t.user.id, conversationId: conv.id, text: TASKS.write });
      await agent.idle();
      stopDeltas();
      stopStored();
      const page = opened as { draft: Draft | null; stop: () => void } | null;
      page?.stop();
      expect(page?.draft?.text.length).toBeGreaterThan(0);

      const stored = await listEventsAfter({ db: db(), ownerId: t.user.id, conversationId: conv.id });
      const tokens = stored.filter((e) => e.type === "tokens");
      expect(tokens.map((e) => e.payload.final)).toEqual([true]);
      const final = String(tokens[0]!.payload.text);
      let shown = page?.draft ?? null;
      const texts: string[] = [];
      for (const e of parseAgentEvents(sse(sent)) as DraftEvent[]) {
        shown = draftAfterEvent(shown, e);
        if (shown && !shown.final) texts.push(shown.text);
      }
      const data = await loadSessionData(agent, t.user.id, conv.id);
      const reply = data.view.messages.find((m) => m.role === "assistant")!;
      // The page gets the reply's token counts, never its token arrays.
      expect(reply.promptTokenCount).toBeGreaterThan(0);
      expect(reply.completionTokenCount).toBeGreaterThan(0);
      expect(Object.keys(reply)).not.toContain("promptTokens");
      expect(data.view.messages.find((m) => m.role === "user")?.promptTokenCount).toBeNull();
      expect(shown).toEqual({ text: final, final: true, messageId: reply.id });
      expect(texts.every((text) => final.startsWith(text))).toBe(true);
      expect(draftBeside(shown, data.view.messages)).toBeNull();
      expect(loadDraft(bus, data.view)).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "another user's conversation is not found",
    async () => {
      const t = await proposedWrite();
      const other = await setUpUser({ db: db(), taught, name: "other" });
      await expect(loadSessionData(agent, other.user.id, t.conv.id)).rejects.toMatchObject({ type: "not_found" });
    },
    TEST_TIMEOUT_MS,
  );
});
