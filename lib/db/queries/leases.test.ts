import { eq, sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { InstanceLeases } from "../instance-leases";
import { lease } from "../schema";
import { forEachDriver, makeUser } from "../test-db";
import { createConversation, updateConversationState } from "./conversations";
import {
  acquireLease,
  getLease,
  type LeaseResource,
  listUnleasedActiveConversations,
  listUnleasedTrainingPolicies,
  releaseLease,
  renewLeases,
} from "./leases";
import { getOrCreatePolicy } from "./policies";
import { enqueueTrainingStep } from "./training-steps";
import { createWorkspace } from "./workspaces";

const resource = (): LeaseResource => ({ kind: "conversation", id: crypto.randomUUID() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

forEachDriver("leases", (db) => {
  it("one holder at a time: another's live lease refuses, the holder's own renews", async () => {
    const r = resource();
    const first = await acquireLease({ db: db(), resource: r, holder: "a", ttlMs: 60_000 });
    expect(first).toMatchObject({ holder: "a", kind: "conversation", resourceId: r.id });
    expect(await acquireLease({ db: db(), resource: r, holder: "b", ttlMs: 60_000 })).toBeNull();
    const again = await acquireLease({ db: db(), resource: r, holder: "a", ttlMs: 60_000 });
    expect(again?.acquiredAt).toEqual(first?.acquiredAt);
    expect(again!.expiresAt.getTime()).toBeGreaterThanOrEqual(first!.expiresAt.getTime());
  });

  it("an expired lease is taken over, and its old holder's renewal no longer includes it", async () => {
    const r = resource();
    await acquireLease({ db: db(), resource: r, holder: "a", ttlMs: 50 });
    await sleep(120);
    expect(await acquireLease({ db: db(), resource: r, holder: "b", ttlMs: 60_000 })).toMatchObject({ holder: "b" });
    expect(await renewLeases({ db: db(), holder: "a", ttlMs: 60_000 })).not.toContainEqual(r);
    expect(await renewLeases({ db: db(), holder: "b", ttlMs: 60_000 })).toContainEqual(r);
  });

  it("of many instances asking at once, exactly one gets the lease", async () => {
    const r = resource();
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquireLease({ db: db(), resource: r, holder: `i${i}`, ttlMs: 60_000 })),
    );
    expect(got.filter((row) => row !== null)).toHaveLength(1);
  });

  it("a released lease is free at once; a release by anyone else changes nothing", async () => {
    const r = resource();
    await acquireLease({ db: db(), resource: r, holder: "a", ttlMs: 60_000 });
    await releaseLease({ db: db(), resource: r, holder: "b" });
    expect(await getLease({ db: db(), resource: r })).toMatchObject({ holder: "a" });
    await releaseLease({ db: db(), resource: r, holder: "a" });
    expect(await acquireLease({ db: db(), resource: r, holder: "b", ttlMs: 60_000 })).toMatchObject({ holder: "b" });
  });

  it("lists the work no live instance holds once it has been quiet: conversations mid-turn and policies with steps to run", async () => {
    const user = await makeUser(db(), "lease");
    const ws = await createWorkspace({ db: db(), ownerId: user.id, name: "ws", path: `/tmp/cc-lease-${user.id}` });
    const policy = await getOrCreatePolicy({
      db: db(),
      ownerId: user.id,
      baseModel: "m",
      backend: "embedded",
      loraRank: 8,
    });
    const conv = async (state: "idle" | "sampling" | "executing") => {
      const c = await createConversation({ db: db(), ownerId: user.id, workspaceId: ws.id });
      await updateConversationState({ db: db(), id: c.id, ownerId: user.id, state });
      return c.id;
    };
    const idle = await conv("idle");
    const orphan = await conv("sampling");
    const held = await conv("executing");
    const expired = await conv("executing");
    await acquireLease({ db: db(), resource: { kind: "conversation", id: held }, holder: "live", ttlMs: 60_000 });
    await acquireLease({ db: db(), resource: { kind: "conversation", id: expired }, holder: "dead", ttlMs: 60_000 });
    await db().update(lease).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(lease.resourceId, expired));
    // Just written: the writer is about to take it, so it is nobody's orphan yet.
    expect((await listUnleasedActiveConversations({ db: db(), quietForMs: 60_000 })).map((c) => c.id)).not.toContain(
      orphan,
    );
    await sleep(120);
    const listed = (await listUnleasedActiveConversations({ db: db(), quietForMs: 100 })).map((c) => c.id);
    expect(listed).toEqual(expect.arrayContaining([orphan, expired]));
    expect(listed).not.toContain(idle);
    expect(listed).not.toContain(held);

    const mine = { policyId: policy.id, ownerId: user.id };
    await enqueueTrainingStep({ db: db(), ownerId: user.id, policyId: policy.id, lossFn: "importance_sampling" });
    expect(await listUnleasedTrainingPolicies({ db: db(), quietForMs: 60_000 })).not.toContainEqual(mine);
    await sleep(120);
    expect(await listUnleasedTrainingPolicies({ db: db(), quietForMs: 100 })).toContainEqual(mine);
    await acquireLease({ db: db(), resource: { kind: "policy", id: policy.id }, holder: "live", ttlMs: 60_000 });
    expect(await listUnleasedTrainingPolicies({ db: db(), quietForMs: 100 })).not.toContainEqual(mine);
  });

  it("an instance runs work only under the lease, once per process, and gives the lease up after", async () => {
    const a = new InstanceLeases({ db: db(), ttlMs: 60_000 });
    const b = new InstanceLeases({ db: db(), ttlMs: 60_000 });
    const r = resource();
    let release = () => {};
    const running = a.run(r, () => new Promise<string>((resolve) => (release = () => resolve("done"))));
    while (!a.holds(r)) await sleep(5);
    expect(await a.run(r, async () => "twice")).toEqual({ ran: false });
    expect(await b.run(r, async () => "elsewhere")).toEqual({ ran: false });
    release();
    expect(await running).toEqual({ ran: true, value: "done" });
    expect(await getLease({ db: db(), resource: r })).toBeNull();
    expect(await b.run(r, async () => "now")).toEqual({ ran: true, value: "now" });
  });

  it("work that outlasts the lease's ttl keeps it by renewing; a lease taken meanwhile is reported lost", async () => {
    const a = new InstanceLeases({ db: db(), ttlMs: 300 });
    const r = resource();
    const seen: { otherGotIt: boolean; heldAfterTakeover: boolean } = { otherGotIt: true, heldAfterTakeover: true };
    await a.run(r, async () => {
      await sleep(900); // three ttls
      seen.otherGotIt = (await acquireLease({ db: db(), resource: r, holder: "other", ttlMs: 300 })) !== null;
      // As if this process had stalled past its expiry and another instance took over.
      await db().update(lease).set({ holder: "other" }).where(eq(lease.resourceId, r.id));
      const until = Date.now() + 2_000;
      while (a.holds(r) && Date.now() < until) await sleep(20);
      seen.heldAfterTakeover = a.holds(r);
    });
    expect(seen).toEqual({ otherGotIt: false, heldAfterTakeover: false });
    expect(await getLease({ db: db(), resource: r })).toMatchObject({ holder: "other" });
  });
});
