import { afterAll, beforeAll, expect, it } from "vitest";
import { EventBus, publishEvent } from "@/lib/agent/events";
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
  const publish = (type: "message" | "state", payload: Record<string, unknown>) =>
    publishEvent({ db, bus, ownerId: user.id, conversationId: conv.id, type, payload });
  return { user, conv, publish };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

it("replays the stored events after the given id, then live ones, each once and in order", async () => {
  const { user, conv, publish } = await conversationOf("live");
  const first = await publish("state", { state: "sampling" });
  await publish("message", { role: "user" });
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
    ["message", { role: "user" }],
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
