/**
 * The one ownership check route handlers share: the signed-in user's workspace by id, or an
 * AppError (401 signed out, 404 for a malformed id, a missing one, or someone else's).
 */
import { requireApiUser } from "@/lib/auth/server";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import type { Workspace } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { workspaceIdSchema } from "./schema";

export async function requireOwnWorkspace(rawId: string): Promise<Workspace> {
  const user = await requireApiUser();
  const id = workspaceIdSchema.safeParse(rawId);
  if (!id.success) throw new AppError("not_found:workspace", "Workspace not found.");
  const ws = await getWorkspaceForOwner({ id: id.data, ownerId: user.id });
  if (!ws) throw new AppError("not_found:workspace", "Workspace not found.");
  return ws;
}
