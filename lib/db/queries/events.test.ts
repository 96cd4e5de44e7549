import { expect, it } from "vitest";
import { forEachDriver, makeUser } from "../test-db";
import { appendEvent, getLastEventId, getLastEventOfType, listEventsAfter } from "./events";
import { createAllowRule, deleteAllowRule, listAllowRulesByOwner } from "./allow-rules";
import { createCheckpoint, getCheckpointForOwner, listCheckpointsByPolicy } from "./checkpoints";
import { getOrCreatePolicy, getPolicyForOwner } from "./policies";
import { createWorkspace } from "./workspaces";
import { createConversation } from "./conversations";

forEachDriver("events, allow rules and checkpoints", (db) => {
  it("events after an id are exactly the later ones, in order, and only for the owner", async () => {
    const u = await makeUser(db());
    const other = await makeUser(db());
    const ws = await createWorkspace({ db: db(), ownerId: u.id, name: "w", path: "/w" });
    const conv = await createConversation({ db: db(), ownerId: u.id, workspaceId: ws.id });
    const events = [];
    for (const type of ["tokens", "proposal", "result", "probe"] as const) {
      events.push(await appendEvent({ db: db(), ownerId: u.id, conversationId: conv.id, type, payload: { type } }));
    }
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const after = await listEventsAfter({
      db: db(),
      ownerId: u.id,
      conversationId: conv.id,
      afterId: ids[1]!,
    });
    expect(after.map((e) => [e.type, e.payload])).toEqual([
      ["result", { type: "result" }],
      ["probe", { type: "probe" }],
    ]);
    expect(await listEventsAfter({ db: db(), ownerId: u.id, conversationId: conv.id })).toHaveLength(4);
    expect(await listEventsAfter({ db: db(), ownerId: u.id, conversationId: conv.id, afterId: ids[3]! })).toEqual([]);
    expect(await listEventsAfter({ db: db(), ownerId: other.id, conversationId: conv.id })).toEqual([]);
  });

  it("the newest event, and the newest of a type, are the conversation's own and its owner's only", async () => {
    const u = await makeUser(db());
    const other = await makeUser(db());
    const ws = await createWorkspace({ db: db(), ownerId: u.id, name: "w", path: "/w" });
    const [conv, next] = [
      await createConversation({ db: db(), ownerId: u.id, workspaceId: ws.id }),
      await createConversation({ db: db(), ownerId: u.id, workspaceId: ws.id }),
    ];
    const args = { db: db(), ownerId: u.id, conversationId: conv.id };
    expect(await getLastEventId(args)).toBe(0);
    const first = await appendEvent({ ...args, type: "error", payload: { message: "first" } });
    const second = await appendEvent({ ...args, type: "error", payload: { message: "second" } });
    const last = await appendEvent({ ...args, type: "state", payload: { state: "idle" } });
    await appendEvent({ db: db(), ownerId: u.id, conversationId: next.id, type: "error", payload: { message: "x" } });
    expect(first.id).toBeLessThan(second.id);
    expect(await getLastEventId(args)).toBe(last.id);
    expect((await getLastEventOfType({ ...args, type: "error" }))?.payload).toEqual({ message: "second" });
    expect(await getLastEventOfType({ ...args, type: "probe" })).toBeNull();
    expect(await getLastEventId({ ...args, ownerId: other.id })).toBe(0);
    expect(await getLastEventOfType({ ...args, ownerId: other.id, type: "error" })).toBeNull();
  });

  it("allow rules are listed and deleted only by their owner", async () => {
    const u = await makeUser(db());
    const other = await makeUser(db());
    const whole = await createAllowRule({ db: db(), ownerId: u.id, tool: "read", kind: "tool" });
    const prefix = await createAllowRule({
      db: db(),
      ownerId: u.id,
      tool: "bash",
      kind: "bash_prefix",
      pattern: "git status",
    });
    expect(await listAllowRulesByOwner({ db: db(), ownerId: u.id })).toEqual([whole, prefix]);
    expect(await deleteAllowRule({ db: db(), id: whole.id, ownerId: other.id })).toBeNull();
    expect(await deleteAllowRule({ db: db(), id: whole.id, ownerId: u.id })).toEqual(whole);
    expect(await listAllowRulesByOwner({ db: db(), ownerId: u.id })).toEqual([prefix]);
  });

  it("a state checkpoint becomes the policy's current one; a sampler checkpoint does not", async () => {
    const u = await makeUser(db());
    const other = await makeUser(db());
    const p = await getOrCreatePolicy({
      db: db(),
      ownerId: u.id,
      baseModel: "m",
      backend: "embedded",
      loraRank: 4,
    });
    const base = { db: db(), ownerId: u.id, policyId: p.id };
    const state = await createCheckpoint({ ...base, step: 3, name: "s3", path: "/d/s3", kind: "state" });
    await createCheckpoint({ ...base, step: 4, name: "w4", path: "/d/w4", kind: "sampler" });
    expect((await getPolicyForOwner({ db: db(), id: p.id, ownerId: u.id }))?.currentCheckpointId).toBe(state.id);
    expect((await listCheckpointsByPolicy({ ...base })).map((c) => c.name)).toEqual(["w4", "s3"]);
    expect(await getCheckpointForOwner({ db: db(), id: state.id, ownerId: other.id })).toBeNull();
    expect(await listCheckpointsByPolicy({ db: db(), ownerId: other.id, policyId: p.id })).toEqual([]);
  });
});
