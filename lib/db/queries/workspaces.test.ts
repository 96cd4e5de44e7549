import { expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { forEachDriver, makeUser } from "../test-db";
import {
  createWorkspace,
  deleteWorkspace,
  getWorkspaceForOwner,
  listWorkspacesByOwner,
  renameWorkspace,
} from "./workspaces";
import { createConversation, getConversationForOwner } from "./conversations";

forEachDriver("workspaces", (db) => {
  it("another user gets null for someone's workspace, and cannot rename or delete it", async () => {
    const alice = await makeUser(db(), "alice");
    const bob = await makeUser(db(), "bob");
    const ws = await createWorkspace({ db: db(), ownerId: alice.id, name: "proj", path: "/w/proj" });

    expect(await getWorkspaceForOwner({ db: db(), id: ws.id, ownerId: alice.id })).toEqual(ws);
    expect(await getWorkspaceForOwner({ db: db(), id: ws.id, ownerId: bob.id })).toBeNull();
    expect(await renameWorkspace({ db: db(), id: ws.id, ownerId: bob.id, name: "mine" })).toBeNull();
    expect(await deleteWorkspace({ db: db(), id: ws.id, ownerId: bob.id })).toBeNull();
    expect(await listWorkspacesByOwner({ db: db(), ownerId: bob.id })).toEqual([]);
    expect((await getWorkspaceForOwner({ db: db(), id: ws.id, ownerId: alice.id }))?.name).toBe("proj");
  });

  it("lists an owner's workspaces oldest first", async () => {
    const u = await makeUser(db());
    const a = await createWorkspace({ db: db(), ownerId: u.id, name: "a", path: "/w/a" });
    // Rows stamped in the same millisecond are ordered by their random ids; step past it.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const b = await createWorkspace({ db: db(), ownerId: u.id, name: "b", path: "/w/b", managed: false });
    expect(await listWorkspacesByOwner({ db: db(), ownerId: u.id })).toEqual([a, b]);
    expect(b.managed).toBe(false);
  });

  it("a duplicate name for the same owner is a conflict:workspace, for another owner it is fine", async () => {
    const u = await makeUser(db());
    const other = await makeUser(db());
    const first = await createWorkspace({ db: db(), ownerId: u.id, name: "dup", path: "/w/1" });
    const err = await createWorkspace({ db: db(), ownerId: u.id, name: "dup", path: "/w/2" }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect({ code: err.code, status: err.status }).toEqual({ code: "conflict:workspace", status: 409 });
    await expect(createWorkspace({ db: db(), ownerId: other.id, name: "dup", path: "/w/3" })).resolves.toMatchObject({
      name: "dup",
    });
    const second = await createWorkspace({ db: db(), ownerId: u.id, name: "two", path: "/w/4" });
    const renameErr = await renameWorkspace({
      db: db(),
      id: second.id,
      ownerId: u.id,
      name: first.name,
    }).catch((e) => e);
    expect(renameErr.code).toBe("conflict:workspace");
  });

  it("renaming returns the renamed row; deleting returns the row and removes its conversations", async () => {
    const u = await makeUser(db());
    const ws = await createWorkspace({ db: db(), ownerId: u.id, name: "old", path: "/w/old" });
    const renamed = await renameWorkspace({ db: db(), id: ws.id, ownerId: u.id, name: "new" });
    expect(renamed).toMatchObject({ id: ws.id, name: "new", path: "/w/old" });
    const conv = await createConversation({ db: db(), ownerId: u.id, workspaceId: ws.id });

    expect((await deleteWorkspace({ db: db(), id: ws.id, ownerId: u.id }))?.id).toBe(ws.id);
    expect(await getWorkspaceForOwner({ db: db(), id: ws.id, ownerId: u.id })).toBeNull();
    expect(await getConversationForOwner({ db: db(), id: conv.id, ownerId: u.id })).toBeNull();
  });
});
