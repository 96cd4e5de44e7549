import { expect, it } from "vitest";
import { forEachDriver, makeUser } from "../test-db";
import { appendMessage, listMessagesByConversation } from "./messages";
import {
  createConversation,
  getConversationForOwner,
  listConversationsByWorkspace,
  updateConversation,
  updateConversationState,
} from "./conversations";
import { createWorkspace } from "./workspaces";
import { createToolCall, getToolCallForOwner, updateToolCall } from "./tool-calls";
import type { MessageMeta } from "../message-meta";
import { conversation } from "../schema";

forEachDriver("conversations and messages", (db) => {
  async function setup() {
    const owner = await makeUser(db(), "owner");
    const other = await makeUser(db(), "other");
    const ws = await createWorkspace({ db: db(), ownerId: owner.id, name: "ws", path: "/w" });
    const conv = await createConversation({
      db: db(),
      ownerId: owner.id,
      workspaceId: ws.id,
      task: "fix it",
    });
    return { owner, other, ws, conv };
  }

  it("a message's meta is stored as given, and a meta message-meta.ts does not know is refused with nothing stored", async () => {
    const { owner, conv } = await setup();
    const meta: MessageMeta = {
      context: { seqs: [0, 1], elided: 0, markerAfter: null },
      task: "fix it",
      stopReason: "length",
      policyStep: 2,
      parseError: { reason: "truncated", detail: "no end-of-turn token" },
      excluded: true,
    };
    const stored = await appendMessage({
      db: db(),
      ownerId: owner.id,
      conversationId: conv.id,
      message: { role: "assistant", content: "<tool_call>", meta },
    });
    expect(stored.meta).toEqual(meta);
    const bad = [{ kind: "tsak" }, { policyStep: "2" }, { stopReason: "eos" }, { excluded: true, colour: "red" }];
    for (const wrong of bad) {
      await expect(
        appendMessage({
          db: db(),
          ownerId: owner.id,
          conversationId: conv.id,
          // @ts-expect-error: each is a meta the type refuses too; the database write must refuse it at run time
          message: { role: "user", content: "x", meta: wrong },
        }),
      ).rejects.toThrow(/^message meta refused/);
    }
    const list = await listMessagesByConversation({ db: db(), ownerId: owner.id, conversationId: conv.id });
    expect(list.map((m) => m.id)).toEqual([stored.id]);
  });

  it("messages get seq 0, 1, 2… and list in that order", async () => {
    const { owner, conv } = await setup();
    for (const content of ["sys", "task", "reply"]) {
      await appendMessage({
        db: db(),
        ownerId: owner.id,
        conversationId: conv.id,
        message: { role: content === "reply" ? "assistant" : "user", content },
      });
    }
    const list = await listMessagesByConversation({ db: db(), ownerId: owner.id, conversationId: conv.id });
    expect(list.map((m) => [m.seq, m.content])).toEqual([
      [0, "sys"],
      [1, "task"],
      [2, "reply"],
    ]);
  });

  it("concurrent appends each get their own next seq", async () => {
    const { owner, conv } = await setup();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        appendMessage({
          db: db(),
          ownerId: owner.id,
          conversationId: conv.id,
          message: { role: "user", content: `m${i}` },
        }),
      ),
    );
    const list = await listMessagesByConversation({ db: db(), ownerId: owner.id, conversationId: conv.id });
    expect(list.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(list.map((m) => m.content)).size).toBe(8);
  });

  it("an assistant message keeps its tokens, log-probs and tool calls exactly", async () => {
    const { owner, conv } = await setup();
    const saved = await appendMessage({
      db: db(),
      ownerId: owner.id,
      conversationId: conv.id,
      message: {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "c1", name: "read", arguments: { path: "a.ts" } }],
        promptTokens: [1, 2, 3],
        completionTokens: [4, 5],
        completionLogprobs: [-0.25, -1.5],
        meta: { stopReason: "stop" },
      },
    });
    const [listed] = await listMessagesByConversation({
      db: db(),
      ownerId: owner.id,
      conversationId: conv.id,
    });
    expect(listed).toEqual(saved);
    expect(listed!.completionLogprobs).toEqual([-0.25, -1.5]);
  });

  it("another user cannot read, append to or change someone's conversation", async () => {
    const { owner, other, ws, conv } = await setup();
    expect(await getConversationForOwner({ db: db(), id: conv.id, ownerId: other.id })).toBeNull();
    expect(await listConversationsByWorkspace({ db: db(), ownerId: other.id, workspaceId: ws.id })).toEqual([]);
    await expect(
      appendMessage({
        db: db(),
        ownerId: other.id,
        conversationId: conv.id,
        message: { role: "user", content: "x" },
      }),
    ).rejects.toMatchObject({ code: "not_found:conversation" });
    expect(await updateConversationState({ db: db(), id: conv.id, ownerId: other.id, state: "sampling" })).toBeNull();
    expect(await updateConversation({ db: db(), id: conv.id, ownerId: other.id, patch: { title: "x" } })).toBeNull();
    await expect(createConversation({ db: db(), ownerId: other.id, workspaceId: ws.id })).rejects.toMatchObject({
      code: "not_found:workspace",
    });
    expect((await getConversationForOwner({ db: db(), id: conv.id, ownerId: owner.id }))?.title).toBe(
      "New conversation",
    );
  });

  it("a state change guarded by `from` happens once", async () => {
    const { owner, conv } = await setup();
    const args = {
      db: db(),
      id: conv.id,
      ownerId: owner.id,
      state: "sampling" as const,
      from: ["idle" as const],
    };
    const [a, b] = await Promise.all([updateConversationState(args), updateConversationState(args)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect((await getConversationForOwner({ db: db(), id: conv.id, ownerId: owner.id }))?.state).toBe("sampling");
  });

  it("a failed transaction leaves nothing behind", async () => {
    const { owner, conv } = await setup();
    await expect(
      db().transaction(async (tx) => {
        await appendMessage({
          db: tx,
          ownerId: owner.id,
          conversationId: conv.id,
          message: { role: "user", content: "a" },
        });
        await tx.update(conversation).set({ title: "changed" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await listMessagesByConversation({ db: db(), ownerId: owner.id, conversationId: conv.id })).toEqual([]);
    expect((await getConversationForOwner({ db: db(), id: conv.id, ownerId: owner.id }))?.title).toBe(
      "New conversation",
    );
  });

  it("a tool call's decision is a compare-and-set, and other users never see it", async () => {
    const { owner, other, conv } = await setup();
    const msg = await appendMessage({
      db: db(),
      ownerId: owner.id,
      conversationId: conv.id,
      message: { role: "assistant", content: "" },
    });
    const call = await createToolCall({
      db: db(),
      ownerId: owner.id,
      conversationId: conv.id,
      messageId: msg.id,
      name: "bash",
      args: { command: "ls" },
    });
    expect(await getToolCallForOwner({ db: db(), id: call.id, ownerId: other.id })).toBeNull();
    const decide = (status: "approved" | "denied") =>
      updateToolCall({
        db: db(),
        id: call.id,
        ownerId: owner.id,
        patch: { status, decidedAt: new Date() },
        from: ["proposed"],
      });
    expect((await decide("approved"))?.status).toBe("approved");
    expect(await decide("denied")).toBeNull();
    expect(await updateToolCall({ db: db(), id: call.id, ownerId: other.id, patch: { status: "failed" } })).toBeNull();
    expect((await getToolCallForOwner({ db: db(), id: call.id, ownerId: owner.id }))?.status).toBe("approved");
  });
});
