/**
 * What the agent is told when the reviewer changed its call, end to end through the agent's own
 * decide → driver → tool run on a real workspace and database (no model needed: the step cap of
 * one call stops the turn before the next sample).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { appendMessage, listMessagesByConversation } from "@/lib/db/queries/messages";
import { createToolCall, getToolCallForOwner } from "@/lib/db/queries/tool-calls";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { hunkOutcome } from "@/lib/conversation-page/hunk-review";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { Agent } from "./agent";
import { reviewNote, reviewOf } from "./call-review";

const after = "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n";
describe("what the agent is told", () => {
  it("tells the agent which hunk was rejected, why, and what the file holds compared with its proposal", () => {
    const applied = "one\nTWO\nthree\nfour\nfive\nsix\nseven\n";
    const note = reviewNote(
      reviewOf({
        proposedAfter: after,
        appliedAfter: applied,
        hunks: 2,
        rejected: [{ number: 2, diff: "@@ -7,0 +8,1 @@\n+eight", correction: "no eighth line" }],
      }),
    );
    expect(note).toBe(
      [
        "The reviewer accepted 1 of your 2 hunks and rejected 1; only the accepted ones were applied.",
        "Rejected hunk 2 of 2 (reason: no eighth line):",
        "@@ -7,0 +8,1 @@\n+eight",
        "The file now holds, compared with what you proposed:",
        "@@ -8,1 +7,0 @@\n-eight",
        "Do not propose the rejected or replaced changes again unless asked.",
      ].join("\n"),
    );
  });
});

forEachDriver("the reviewer's changes in the agent's context", (db) => {
  let backend: EmbeddedBackend;
  let agent: Agent;
  let statesDir: string;
  const dirs: string[] = [];

  beforeAll(() => {
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-review-states-"));
    backend = createEmbeddedBackend({ models: {}, statesDir });
    agent = new Agent({ db: db(), backend, tools: [], systemPrompt: () => "Agent." });
  });
  afterAll(async () => {
    await agent?.idle();
    await backend?.close();
    for (const d of [statesDir, ...dirs]) fs.rmSync(d, { recursive: true, force: true });
  });

  /** A conversation whose one task's one call awaits a decision. */
  async function proposed(files: Record<string, string>, name: string, args: Record<string, unknown>) {
    const user = await makeUser(db(), "reviewer");
    await saveUserSettings({ db: db(), userId: user.id, settings: { model: "Qwen/Qwen3-0.6B", maxSteps: 1 } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-review-ws-"));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
    const workspace = await createWorkspace({ db: db(), ownerId: user.id, name: "ws", path: dir });
    const conv = await agent.startConversation({ ownerId: user.id, workspaceId: workspace.id });
    const o = { db: db(), ownerId: user.id, conversationId: conv.id };
    await appendMessage({ ...o, message: { role: "user", content: "task", meta: { kind: "task" } } });
    const m = await appendMessage({
      ...o,
      message: { role: "assistant", content: "", toolCalls: [{ id: "c1", name, arguments: args }], meta: {} },
    });
    const call = await createToolCall({ ...o, messageId: m.id, name, args });
    const now = (await getConversationForOwner({ db: db(), id: conv.id, ownerId: user.id }))!;
    await agent.core.setState(now, "proposed", ["idle"]);
    return { ownerId: user.id, dir, conversationId: conv.id, call };
  }

  async function toolMessage(ownerId: string, conversationId: string) {
    await agent.idle();
    return (await listMessagesByConversation({ db: db(), ownerId, conversationId }))
      .filter((r) => r.role === "tool")
      .at(-1)!.content;
  }

  it("runs exactly the accepted hunks and names the rejected one (with its reason) before the tool's output", async () => {
    const before = "alpha\nbeta\ngamma\ndelta\n";
    const proposal = "ALPHA\nbeta\ngamma\nDELTA\n";
    const t = await proposed({ "f.txt": before }, "write", { path: "f.txt", content: proposal });
    const outcome = hunkOutcome(before, proposal, [
      { accept: true },
      { accept: false, correction: "delta stays lower case" },
    ]);
    if (outcome.kind !== "partial") throw new Error(`expected a partial outcome, got ${outcome.kind}`);
    const review = reviewOf({
      proposedAfter: proposal,
      appliedAfter: outcome.text,
      hunks: outcome.hunks,
      rejected: outcome.rejected,
    });
    await agent.decide({
      ownerId: t.ownerId,
      toolCallId: t.call.id,
      decision: {
        kind: "edit",
        args: { path: "f.txt", content: outcome.text },
        review,
        correction: "Apply only the accepted hunks.",
      },
    });
    const content = await toolMessage(t.ownerId, t.conversationId);
    expect(fs.readFileSync(path.join(t.dir, "f.txt"), "utf8")).toBe("ALPHA\nbeta\ngamma\ndelta\n");
    expect(content).toBe(
      [
        "The reviewer accepted 1 of your 2 hunks and rejected 1; only the accepted ones were applied.",
        "Rejected hunk 2 of 2 (reason: delta stays lower case):",
        "@@ -4,1 +4,1 @@\n-delta\n+DELTA",
        "The file now holds, compared with what you proposed:",
        "@@ -4,1 +4,1 @@\n-DELTA\n+delta",
        "Do not propose the rejected or replaced changes again unless asked.",
        "",
        "Tool output:",
        "ok",
      ].join("\n"),
    );
    expect((await getToolCallForOwner({ db: db(), id: t.call.id, ownerId: t.ownerId }))!.review).toEqual(review);
    // The accepted result is the demonstration; the rejected hunk's reason is a denial of the same call.
    const corrections = await listCorrectionsByConversation({
      db: db(),
      ownerId: t.ownerId,
      conversationId: t.conversationId,
    });
    expect(corrections.map((c) => [c.kind, c.text]).sort()).toEqual([
      ["denial", "Hunk 2 was rejected: delta stays lower case"],
      ["edit", "Apply only the accepted hunks."],
    ]);
  });

  it("says where a write went when the reviewer changed its path", async () => {
    const t = await proposed({}, "write", { path: "a.py", content: "x = 1\n" });
    const review = reviewOf({ proposedAfter: "x = 1\n", appliedAfter: "x = 1\n", path: { from: "a.py", to: "b.py" } });
    await agent.decide({
      ownerId: t.ownerId,
      toolCallId: t.call.id,
      decision: { kind: "edit", args: { path: "b.py", content: "x = 1\n" }, review },
    });
    const content = await toolMessage(t.ownerId, t.conversationId);
    expect(fs.existsSync(path.join(t.dir, "a.py"))).toBe(false);
    expect(content.split("\n").slice(0, 2)).toEqual([
      "The reviewer edited your call before it ran.",
      "It was written to b.py instead of a.py.",
    ]);
  });

  it("names the arguments the reviewer changed in a call without a file diff", async () => {
    const t = await proposed({}, "bash", { cmd: "echo one" });
    await agent.decide({
      ownerId: t.ownerId,
      toolCallId: t.call.id,
      decision: { kind: "edit", args: { cmd: "echo two" } },
    });
    expect(await toolMessage(t.ownerId, t.conversationId)).toBe(
      'The reviewer edited your call before it ran: cmd "echo one" → "echo two".\n\nTool output:\ntwo',
    );
  });

  it("leaves an approved call's tool message as the tool's output alone", async () => {
    const t = await proposed({}, "bash", { cmd: "echo same" });
    await agent.decide({ ownerId: t.ownerId, toolCallId: t.call.id, decision: { kind: "approve" } });
    expect(await toolMessage(t.ownerId, t.conversationId)).toBe("same");
  });
});
