"use server";
/**
 * Workspace mutations from the UI. Each action parses its input with zod, re-reads the session
 * and lets the ownership-scoped query decide: someone else's id is indistinguishable from a
 * missing one ("not_found"), so an id never reveals that another user's workspace exists.
 */
import { revalidatePath } from "next/cache";
import { getSessionUser } from "@/lib/auth/server";
import * as workspaces from "@/lib/db/queries/workspaces";
import { isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { createManagedWorkspace, deleteWorkspaceWithFiles, registerExistingWorkspace } from "@/lib/workspaces/manage";
import {
  createWorkspaceInputSchema,
  deleteWorkspaceInputSchema,
  registerWorkspaceInputSchema,
  renameWorkspaceInputSchema,
} from "@/lib/workspaces/schema";
import type { z } from "zod";

export type ActionResult<T = object> =
  | ({ status: "ok" } & T)
  | { status: "not_found" }
  | { status: "unauthorized" }
  | { status: "forbidden" }
  | { status: "invalid_data"; error: string }
  | { status: "conflict"; error: string };

function invalid(error: z.ZodError): { status: "invalid_data"; error: string } {
  return { status: "invalid_data", error: error.issues.map((i) => i.message).join("; ") };
}

/** A name clash is the one failure a user can fix; anything else propagates to the error page. */
function conflictOrThrow(err: unknown): { status: "conflict"; error: string } {
  if (isAppError(err) && err.type === "conflict") return { status: "conflict", error: err.message };
  throw err;
}

export async function createWorkspace(input: unknown): Promise<ActionResult<{ id: string }>> {
  const parsed = createWorkspaceInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const ws = await createManagedWorkspace({ ownerId: user.id, name: parsed.data.name, example: parsed.data.example });
    log.info("workspace.created", { userId: user.id, workspaceId: ws.id, example: parsed.data.example });
    revalidatePath("/workspaces");
    return { status: "ok", id: ws.id };
  } catch (err) {
    return conflictOrThrow(err);
  }
}

export async function renameWorkspace(input: unknown): Promise<ActionResult> {
  const parsed = renameWorkspaceInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const row = await workspaces.renameWorkspace({ id: parsed.data.id, ownerId: user.id, name: parsed.data.name });
    if (!row) return { status: "not_found" };
  } catch (err) {
    return conflictOrThrow(err);
  }
  revalidatePath("/workspaces");
  return { status: "ok" };
}

export async function deleteWorkspace(input: unknown): Promise<ActionResult> {
  const parsed = deleteWorkspaceInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  const row = await deleteWorkspaceWithFiles({ id: parsed.data.id, ownerId: user.id });
  if (!row) return { status: "not_found" };
  log.info("workspace.deleted", { userId: user.id, workspaceId: row.id, managed: row.managed });
  revalidatePath("/workspaces");
  return { status: "ok" };
}

/** Admins only: make an existing directory on the server a workspace of their own. */
export async function registerWorkspace(input: unknown): Promise<ActionResult<{ id: string }>> {
  const parsed = registerWorkspaceInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  if (user.role !== "admin") return { status: "forbidden" };
  try {
    const result = await registerExistingWorkspace({ ownerId: user.id, name: parsed.data.name, dir: parsed.data.path });
    if (result.status === "invalid_data") return result;
    log.info("workspace.registered", {
      userId: user.id,
      workspaceId: result.workspace.id,
      path: result.workspace.path,
    });
    revalidatePath("/workspaces");
    return { status: "ok", id: result.workspace.id };
  } catch (err) {
    return conflictOrThrow(err);
  }
}
