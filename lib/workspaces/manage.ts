/**
 * Workspaces as rows and directories together. A managed workspace is a fresh directory under
 * the data directory (optionally seeded from an example) and is removed with its row; a
 * registered one is an existing directory an admin points at, and deleting it removes only the row.
 * Order: directory first, then row (a failed insert removes the directory again), so no row
 * ever points at a directory that was never made.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import * as workspaces from "@/lib/db/queries/workspaces";
import type { Workspace } from "@/lib/db/schema";
import { isInside } from "./paths";
import { type ExampleName, seedFromExample } from "./seed";
import { dataDir, workspacesRoot } from "./data-dir";

export async function createManagedWorkspace({
  db,
  ownerId,
  name,
  example,
  root = workspacesRoot(),
}: {
  db?: Db;
  ownerId: string;
  name: string;
  example: ExampleName | null;
  root?: string;
}): Promise<Workspace> {
  const id = randomUUID();
  const dir = path.join(root, id);
  await fs.mkdir(dir, { recursive: true });
  try {
    if (example) await seedFromExample(dir, example);
    return await workspaces.createWorkspace({ db, id, ownerId, name, path: dir, managed: true });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export type RegisterResult = { status: "ok"; workspace: Workspace } | { status: "invalid_data"; error: string };

/**
 * Registers an existing absolute directory (admin only; the caller checks the role). The data
 * directory, anything inside it (other users' workspaces, the database) and anything containing
 * it are refused: registering them would let an admin read other users' files.
 */
export async function registerExistingWorkspace({
  db,
  ownerId,
  name,
  dir,
  dataRoot = dataDir(),
}: {
  db?: Db;
  ownerId: string;
  name: string;
  dir: string;
  dataRoot?: string;
}): Promise<RegisterResult> {
  if (!path.isAbsolute(dir)) return { status: "invalid_data", error: "The path must be absolute." };
  let real: string;
  try {
    real = await fs.realpath(dir);
  } catch {
    return { status: "invalid_data", error: `No such directory: ${dir}` };
  }
  if (!(await fs.stat(real)).isDirectory()) return { status: "invalid_data", error: `Not a directory: ${dir}` };
  if (real === path.parse(real).root)
    return { status: "invalid_data", error: "The file system root cannot be a workspace." };
  const data = await fs.realpath(dataRoot).catch(() => path.resolve(dataRoot));
  if (isInside(data, real) || isInside(real, data)) {
    return {
      status: "invalid_data",
      error: "The data directory (and anything in or around it) cannot be a workspace.",
    };
  }
  const workspace = await workspaces.createWorkspace({ db, ownerId, name, path: real, managed: false });
  return { status: "ok", workspace };
}

/**
 * Deletes the owner's workspace; null when it is not theirs. A managed directory is removed only
 * when it really lies under the workspaces root, as a guard against a row that was tampered with.
 */
export async function deleteWorkspaceWithFiles({
  db,
  id,
  ownerId,
  root = workspacesRoot(),
}: {
  db?: Db;
  id: string;
  ownerId: string;
  root?: string;
}): Promise<Workspace | null> {
  const row = await workspaces.deleteWorkspace({ db, id, ownerId });
  if (
    row?.managed &&
    isInside(path.resolve(root), path.resolve(row.path)) &&
    path.resolve(root) !== path.resolve(row.path)
  ) {
    await fs.rm(row.path, { recursive: true, force: true });
  }
  return row;
}
