/**
 * The settings page's checkpoints section (a server component): the signed-in user's policies
 * and their checkpoints, read with the user's id only, handed to the interactive table.
 */
import { requireUser } from "@/lib/auth/server";
import { getDb } from "@/lib/db/client";
import { listCheckpointsForOwner } from "@/lib/agent/checkpoints";
import { CheckpointTable } from "./checkpoint-table";

export async function CheckpointsSection() {
  const user = await requireUser();
  const { policies, checkpoints } = await listCheckpointsForOwner({ db: await getDb(), ownerId: user.id });
  return <CheckpointTable policies={policies} checkpoints={checkpoints} />;
}
