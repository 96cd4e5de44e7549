// Server code: workspaces, the directories an agent may touch. Ownership is part of every WHERE
// clause, so someone else's workspace reads as absent (null), never as forbidden. Names are unique
// per owner; a clash surfaces as AppError "conflict:workspace".
import { and, asc, eq } from "drizzle-orm";
import { AppError, isUniqueViolation } from "@/lib/errors";
import { type Db, resolveDb } from "../client";
import { type Workspace, workspace } from "../schema";

function rethrowNameClash(err: unknown, name: string): never {
  if (isUniqueViolation(err)) {
    throw new AppError("conflict:workspace", `A workspace named "${name}" already exists.`, { cause: err });
  }
  throw err;
}

export async function createWorkspace({
  db,
  id,
  ownerId,
  name,
  path,
  managed = true,
}: {
  db?: Db;
  /** Chosen by the caller when the directory is named after the row. */
  id?: string;
  ownerId: string;
  name: string;
  path: string;
  managed?: boolean;
}): Promise<Workspace> {
  try {
    const d = await resolveDb(db);
    const [row] = await d.insert(workspace).values({ id, ownerId, name, path, managed }).returning();
    return row!;
  } catch (err) {
    rethrowNameClash(err, name);
  }
}

/** The owner's workspaces, oldest first. */
export async function listWorkspacesByOwner({ db, ownerId }: { db?: Db; ownerId: string }): Promise<Workspace[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(workspace)
    .where(eq(workspace.ownerId, ownerId))
    .orderBy(asc(workspace.createdAt), asc(workspace.id));
}

export async function getWorkspaceForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Workspace | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(workspace)
    .where(and(eq(workspace.id, id), eq(workspace.ownerId, ownerId)));
  return row ?? null;
}

/** The renamed row, or null when the owner has no such workspace. */
export async function renameWorkspace({
  db,
  id,
  ownerId,
  name,
}: {
  db?: Db;
  id: string;
  ownerId: string;
  name: string;
}): Promise<Workspace | null> {
  try {
    const d = await resolveDb(db);
    const [row] = await d
      .update(workspace)
      .set({ name })
      .where(and(eq(workspace.id, id), eq(workspace.ownerId, ownerId)))
      .returning();
    return row ?? null;
  } catch (err) {
    rethrowNameClash(err, name);
  }
}

/**
 * Deletes the workspace and, by cascade, its conversations and everything under them. Returns the
 * deleted row (the caller removes a managed directory from disk), or null when not the owner's.
 */
export async function deleteWorkspace({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Workspace | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .delete(workspace)
    .where(and(eq(workspace.id, id), eq(workspace.ownerId, ownerId)))
    .returning();
  return row ?? null;
}
