import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type AgentEventPayloads,
  type AgentEventType,
  EventBus,
  publishEvent,
  type TokenDelta,
} from "@/lib/agent/events";
import type { DbHandle } from "@/lib/db/client";
import { createConversation } from "@/lib/db/queries/conversations";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import { createTestDb, makeUser } from "@/lib/db/test-db";
import { type FollowedEvent, followConversationEvents } from "./event-follower";

let handle: DbHandle;
const bus = new EventBus();
const subscribe: EventBus["subscribe"] = (conversationId, afterEventId, listener) =>
  bus.subscribe(conversationId, afterEventId, listener);
beforeAll(async () => {
  handle = await createTestDb();
});
afterAll(async () => {
  await handle?.close();
});

async function conversationOf(name: string) {
  const db = handle.db;
  const user = await makeUser(db, name);
  const ws = await createWorkspace({ db, ownerId: user.id, name: "ws", path: `/tmp/cc-follow-${name}` });
  const conv = await createConversation({ db, ownerId: user.id, workspaceId: ws.id });
  const publish = <T extends AgentEventType>(type: T, payload: AgentEventPayloads[T]) =>
    publishEvent({ db, bus, ownerId: user.id, conversationId: conv.id, type, payload });
  return { user, conv, publish };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

it("replays the stored events after the given id, then live ones, each once and in order", async () => {
  const { user, conv, publish } = await conversationOf("live");
  const first = await publish("state", { state: "sampling" });
  await publish("message", { messageId: "m1", role: "user" });
  const got: FollowedEvent[] = [];
  const follower = followConversationEvents({
    db: handle.db,
    ownerId: user.id,
    conversationId: conv.id,
    afterEventId: first.id,
    send: (e) => got.push(e),
    subscribe,
    pollMs: 60_000,
  });
  await follower.caughtUp();
  await publish("state", { state: "idle" });
  await publish("state", { state: "failed" });
  await until(() => got.length === 3);
  follower.stop();
  expect(got.map((e) => [e.type, e.payload])).toEqual([
    ["message", { messageId: "m1", role: "user" }],
    ["state", { state: "idle" }],
    ["state", { state: "failed" }],
  ]);
  expect(got.map((e) => e.id)).toEqual([...got.map((e) => e.id)].sort((a, b) => a - b));
});

it("events this process's bus never announces still arrive by polling", async () => {
  const { user, conv, publish } = await conversationOf("poll");
  const got: FollowedEvent[] = [];
  const deaf = () => () => {};
  const follower = followConversationEvents({
    db: handle.db,
    ownerId: user.id,
    conversationId: conv.id,
    afterEventId: 0,
    send: (e) => got.push(e),
    subscribe: deaf,
    pollMs: 20,
  });
  await publish("state", { state: "sampling" });
  await until(() => got.length === 1);
  follower.stop();
  await publish("state", { state: "idle" });
  await new Promise((r) => setTimeout(r, 100));
  expect(got.map((e) => e.payload)).toEqual([{ state: "sampling" }]);
});

it("another owner's id sees none of the conversation's events", async () => {
  const { conv, publish } = await conversationOf("owner");
  const stranger = await makeUser(handle.db, "stranger");
  await publish("state", { state: "sampling" });
  const got: FollowedEvent[] = [];
  const follower = followConversationEvents({
    db: handle.db,
    ownerId: stranger.id,
    conversationId: conv.id,
    afterEventId: 0,
    send: (e) => got.push(e),
    subscribe,
    pollMs: 60_000,
  });
  await follower.caughtUp();
  follower.stop();
  expect(got).toEqual([]);
});

it("a stream opened mid-reply starts with the text so far, then the live deltas, and ends with the stored final text", async () => {
  const { user, conv, publish } = await conversationOf("draft");
  await publish("state", { state: "sampling" });
  await publish("tokens", { text: "Hel", final: false });
  await publish("tokens", { text: "lo", final: false });
  // Deltas are kept in memory, not stored.
  expect(bus.draft(conv.id)).toBe("Hello");
  const got: Array<{ id: number | null; type: string; payload: unknown }> = [];
  const follower = followConversationEvents({
    db: handle.db,
    ownerId: user.id,
    conversationId: conv.id,
    afterEventId: 0,
    send: (e) => got.push(e),
    subscribe,
    deltas: { bus, send: (d: TokenDelta) => got.push(d) },
    pollMs: 60_000,
  });
  await follower.caughtUp();
  await publish("tokens", { text: " there", final: false });
  await publish("tokens", { text: "Hello there", final: true });
  await until(() => got.length === 4);
  follower.stop();
  expect(got.map((e) => [e.id === null ? "delta" : "stored", e.type, e.payload])).toEqual([
    ["stored", "state", { state: "sampling" }],
    ["delta", "tokens", { text: "Hello", final: false, sofar: true }],
    ["delta", "tokens", { text: " there", final: false }],
    ["stored", "tokens", { text: "Hello there", final: true }],
  ]);
  expect(bus.draft(conv.id)).toBeNull();
});

it("a delta published after a stored event is not sent ahead of it", async () => {
  const { user, conv, publish } = await conversationOf("order");
  const got: string[] = [];
  const follower = followConversationEvents({
    db: handle.db,
    ownerId: user.id,
    conversationId: conv.id,
    afterEventId: 0,
    send: (e) => got.push(e.type),
    subscribe,
    deltas: { bus, send: () => got.push("delta") },
    pollMs: 60_000,
  });
  await follower.caughtUp();
  // The delta comes while the read the state event nudged is still running.
  await publish("state", { state: "sampling" });
  await publish("tokens", { text: "a", final: false });
  await until(() => got.length === 2);
  follower.stop();
  expect(got).toEqual(["state", "delta"]);
});
