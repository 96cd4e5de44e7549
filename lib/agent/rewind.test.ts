/**
 * The rewind store on real parts: real tool calls run by the agent's own executeApproved (the
 * sandboxed bash included) against a real workspace directory, before-images in the database
 * (PGlite, and PostgreSQL when TEST_DATABASE_URL is set), every file compared byte for byte.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { appendMessage, listMessagesByConversation } from "@/lib/db/queries/messages";
import { createToolCall } from "@/lib/db/queries/tool-calls";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import type { Conversation } from "@/lib/db/schema";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { Agent } from "./agent";
import { currentEpisode, inContext } from "./context";
import { changedPaths, captureBeforeBash } from "./rewind-snapshots";
import { rewindPoints } from "./rewind";
import { executeApproved } from "./turn";

/** Every file under `dir` (not .git) with its bytes and mode: what "byte for byte" compares. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name === ".git") continue;
      if (e.isDirectory()) visit(r);
      else
        out[r] =
          `${(fs.statSync(path.join(dir, r)).mode & 0o7777).toString(8)}:${fs.readFileSync(path.join(dir, r)).toString("base64")}`;
    }
  };
  visit("");
  return out;
}

forEachDriver("rewind", (db) => {
  let backend: EmbeddedBackend;
  let agent: Agent;
  let statesDir: string;
  const dirs: string[] = [];

  beforeAll(() => {
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-rewind-states-"));
    backend = createEmbeddedBackend({ models: {}, statesDir });
    agent = new Agent({ db: db(), backend, tools: [], systemPrompt: () => "Agent." });
  });
  afterAll(async () => {
    await agent?.idle();
    await backend?.close();
    for (const d of [statesDir, ...dirs]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  async function begin(files: Record<string, string>) {
    const user = await makeUser(db(), "rewinder");
    await saveUserSettings({ db: db(), userId: user.id, settings: { model: "Qwen/Qwen3-0.6B" } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-rewind-ws-"));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const workspace = await createWorkspace({ db: db(), ownerId: user.id, name: "ws", path: dir });
    const conv = await agent.startConversation({ ownerId: user.id, workspaceId: workspace.id });
    return { ownerId: user.id, dir, conv };
  }

  async function task(conv: Conversation, text: string): Promise<string> {
    const m = await appendMessage({
      db: db(),
      ownerId: conv.ownerId,
      conversationId: conv.id,
      message: { role: "user", content: text, meta: { kind: "task" } },
    });
    return m.id;
  }

  /** One approved call, run exactly as the driver runs it, leaving the conversation idle. */
  async function run(conv: Conversation, name: string, args: Record<string, unknown>) {
    const m = await appendMessage({
      db: db(),
      ownerId: conv.ownerId,
      conversationId: conv.id,
      message: { role: "assistant", content: "", toolCalls: [{ id: "c", name, arguments: args }], meta: {} },
    });
    await createToolCall({
      db: db(),
      ownerId: conv.ownerId,
      conversationId: conv.id,
      messageId: m.id,
      name,
      args,
      status: "approved",
    });
    const now = (await getConversationForOwner({ db: db(), id: conv.id, ownerId: conv.ownerId }))!;
    await agent.core.setState(now, "executing", ["idle", "sampling"]);
    expect(await executeApproved(agent.core, { ...now, state: "executing" })).toBe(true);
    const after = (await getConversationForOwner({ db: db(), id: conv.id, ownerId: conv.ownerId }))!;
    expect(after.state).toBe("sampling");
    await agent.core.setState(after, "idle", ["sampling"]);
  }

  it("puts back exactly the files the agent's calls changed since the turn, deletes those it created, and leaves every other file alone", async () => {
    const { ownerId, dir, conv } = await begin({
      "a.txt": "original\n",
      "keep.txt": "keep me\n",
      "sub/old.sh": "#!/bin/sh\necho hi\n",
      "mine.txt": "mine\n",
    });
    fs.chmodSync(path.join(dir, "sub/old.sh"), 0o755);
    await task(conv, "first");
    await run(conv, "write", { path: "a.txt", content: "first turn\n" });
    const atTurn = tree(dir);
    const second = await task(conv, "second");
    await run(conv, "write", { path: "a.txt", content: "second turn\n" });
    await run(conv, "edit", { path: "keep.txt", old: "keep me", new: "kept" });
    await run(conv, "write", { path: "deep/new/file.txt", content: "created\n" });
    await run(conv, "bash", {
      cmd: "rm sub/old.sh && printf '\\x00\\x01binary' > blob.bin && chmod 600 blob.bin && echo more >> a.txt",
    });
    // The person's own change to a file the agent never touched, after the turn.
    fs.writeFileSync(path.join(dir, "mine.txt"), "changed by hand\n");
    expect(tree(dir)).not.toEqual(atTurn);

    const record = await agent.rewind({ ownerId, conversationId: conv.id, messageId: second, mode: "code" });
    const expected = { ...atTurn, "mine.txt": tree(dir)["mine.txt"]! };
    expect(tree(dir)).toEqual(expected);
    expect(fs.existsSync(path.join(dir, "deep/new/file.txt"))).toBe(false);
    expect(record.files.map((f) => `${f.action} ${f.path}`).sort()).toEqual([
      "deleted blob.bin",
      "deleted deep/new/file.txt",
      "restored a.txt",
      "restored keep.txt",
      "restored sub/old.sh",
    ]);
    // Code only: the conversation keeps every message.
    const rows = await listMessagesByConversation({ db: db(), ownerId, conversationId: conv.id });
    expect(rows.every(inContext)).toBe(true);
  });

  it("takes the turn and everything after it out of the conversation only, keeping the rows, and touches no file", async () => {
    const { ownerId, dir, conv } = await begin({ "a.txt": "one\n" });
    await task(conv, "first");
    await run(conv, "write", { path: "a.txt", content: "two\n" });
    const second = await task(conv, "second");
    await run(conv, "write", { path: "a.txt", content: "three\n" });
    const before = tree(dir);
    const record = await agent.rewind({ ownerId, conversationId: conv.id, messageId: second, mode: "conversation" });
    expect(tree(dir)).toEqual(before);
    expect(record.files).toEqual([]);
    const rows = await listMessagesByConversation({ db: db(), ownerId, conversationId: conv.id });
    const visible = currentEpisode(rows).filter(inContext);
    expect(visible.map((r) => r.content).filter(Boolean)).toEqual(["Agent.", "first", "ok"]);
    expect(rows.filter((r) => !inContext(r))).toHaveLength(3);
    expect(rewindPoints(rows).map((r) => r.content)).toEqual(["first"]);
    expect((await getConversationForOwner({ db: db(), id: conv.id, ownerId }))!.task).toBe("first");
  });

  it("undoes a rewind of both to exactly what it replaced, and an undo can itself be undone", async () => {
    const { ownerId, dir, conv } = await begin({ "a.txt": "one\n" });
    const first = await task(conv, "first");
    await run(conv, "write", { path: "a.txt", content: "two\n" });
    await run(conv, "write", { path: "b.txt", content: "new\n" });
    const beforeRewind = tree(dir);
    const rewound = await agent.rewind({ ownerId, conversationId: conv.id, messageId: first, mode: "both" });
    expect(tree(dir)).toEqual({ "a.txt": "644:" + Buffer.from("one\n").toString("base64") });
    expect(rewindPoints(await listMessagesByConversation({ db: db(), ownerId, conversationId: conv.id }))).toEqual([]);

    const undone = await agent.undoRewind({ ownerId, conversationId: conv.id, rewindId: rewound.rewindId });
    expect(tree(dir)).toEqual(beforeRewind);
    const rows = await listMessagesByConversation({ db: db(), ownerId, conversationId: conv.id });
    expect(rows.every(inContext)).toBe(true);
    await expect(agent.undoRewind({ ownerId, conversationId: conv.id, rewindId: rewound.rewindId })).rejects.toThrow(
      /already undone/,
    );

    await agent.undoRewind({ ownerId, conversationId: conv.id, rewindId: undone.rewindId });
    expect(tree(dir)).toEqual({ "a.txt": "644:" + Buffer.from("one\n").toString("base64") });
  });

  it("never writes a git repository's history, and refuses while a call is pending", async () => {
    const { ownerId, dir, conv } = await begin({
      "a.txt": "one\n",
      ".git/HEAD": "ref: refs/heads/main\n",
      ".git/refs/heads/main": "abc\n",
    });
    const first = await task(conv, "first");
    await run(conv, "write", { path: "a.txt", content: "two\n" });
    await run(conv, "bash", { cmd: "echo three > a.txt" });
    const git = () =>
      fs
        .readdirSync(path.join(dir, ".git"), { recursive: true })
        .map(String)
        .sort()
        .map(
          (f) =>
            `${f}:${fs.statSync(path.join(dir, ".git", f)).isFile() ? fs.readFileSync(path.join(dir, ".git", f), "utf8") : "dir"}`,
        );
    const gitBefore = git();
    await agent.rewind({ ownerId, conversationId: conv.id, messageId: first, mode: "code" });
    expect(fs.readFileSync(path.join(dir, "a.txt"), "utf8")).toBe("one\n");
    expect(git()).toEqual(gitBefore);

    const now = (await getConversationForOwner({ db: db(), id: conv.id, ownerId }))!;
    await agent.core.setState(now, "proposed", ["idle"]);
    await expect(agent.rewind({ ownerId, conversationId: conv.id, messageId: first, mode: "code" })).rejects.toThrow(
      /once the agent has stopped/,
    );
  });

  it("never writes outside the workspace when a folder was swapped for a link to another directory after the call", async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "cc-rewind-outside-"));
    dirs.push(outside);
    fs.writeFileSync(path.join(outside, "f.txt"), "someone else's\n");
    const { ownerId, dir, conv } = await begin({ "sub/f.txt": "mine\n" });
    const first = await task(conv, "first");
    await run(conv, "write", { path: "sub/f.txt", content: "changed\n" });
    // What a sandboxed bash could do between the call and the rewind: the folder becomes a link out.
    fs.rmSync(path.join(dir, "sub"), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, "sub"));
    await expect(agent.rewind({ ownerId, conversationId: conv.id, messageId: first, mode: "code" })).rejects.toThrow(
      /Cannot restore sub\/f.txt/,
    );
    expect(fs.readFileSync(path.join(outside, "f.txt"), "utf8")).toBe("someone else's\n");
  });

  it("refuses another user's conversation as not found", async () => {
    const { conv } = await begin({ "a.txt": "one\n" });
    const first = await task(conv, "first");
    const other = await makeUser(db(), "other");
    // Refused at the conversation, before any of its rows (or files) are looked at.
    await expect(
      agent.rewind({ ownerId: other.id, conversationId: conv.id, messageId: first, mode: "both" }),
    ).rejects.toMatchObject({ type: "not_found", surface: "conversation" });
    await expect(
      agent.undoRewind({ ownerId: other.id, conversationId: conv.id, rewindId: "any" }),
    ).rejects.toMatchObject({ type: "not_found", surface: "conversation" });
  });

  it("measures what bash's before-images cost on a workspace of 2,000 files", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2_000; i++) files[`src/${i % 40}/f${i}.ts`] = `export const v${i} = ${i};\n`.repeat(100);
    const { ownerId, dir, conv } = await begin(files);
    const ctx = { workspace: dir, sandbox: { mode: "unsandboxed" as const } };
    const owner = { db: db(), ownerId, conversationId: conv.id };
    const cold = await captureBeforeBash(owner, ctx);
    const warm = await captureBeforeBash(owner, ctx);
    fs.writeFileSync(path.join(dir, "src/3/f3.ts"), "changed\n");
    const oneChanged = await captureBeforeBash(owner, ctx);
    const mib = (cold.bytes / 1024 / 1024).toFixed(1);
    console.log(
      `bash before-images: ${cold.files.size} files, ${mib} MiB: first capture ${cold.ms.toFixed(0)} ms (stores ${cold.inserted.length} contents), ` +
        `next ${warm.ms.toFixed(0)} ms (stores ${warm.inserted.length}), after one file changed ${oneChanged.ms.toFixed(0)} ms (stores ${oneChanged.inserted.length})`,
    );
    expect(cold.files.size).toBe(2_000);
    expect(warm.inserted).toHaveLength(0);
    expect(oneChanged.inserted).toHaveLength(1);
    expect(changedPaths(cold.files, warm.files)).toEqual([]);
    expect(changedPaths(warm.files, oneChanged.files).map((c) => c.path)).toEqual(["src/3/f3.ts"]);
  }, 120_000);
});
