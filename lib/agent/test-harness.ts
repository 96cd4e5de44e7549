/**
 * Test support for the agent: a user with settings for deterministic runs (greedy sampling, short
 * replies), a workspace directory with files, and a policy that starts from the taught test
 * model's state (a checkpoint row, exactly as a restart would resume one).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import type { Policy, User, Workspace } from "@/lib/db/schema";
import { makeUser } from "@/lib/db/test-db";
import { TEACH_SPEC, TEST_MODEL_NAME } from "./test-fixtures";
import type { Taught } from "./test-model";

/** Greedy sampling and short replies: an untaught prompt costs little and every run is the same. */
export const TEST_SETTINGS = { temperature: 0, maxTokens: 40, model: TEST_MODEL_NAME, loraRank: TEACH_SPEC.rank } as const;

export type TestUser = { user: User; workspace: Workspace; dir: string; policy: Policy };

export async function setUpUser({
  db,
  taught,
  settings = {},
  files = { "a.txt": "hello from a\n" },
  name = "user",
}: {
  db: Db;
  taught: Taught;
  settings?: Record<string, unknown>;
  files?: Record<string, string>;
  name?: string;
}): Promise<TestUser> {
  const user = await makeUser(db, name);
  await saveUserSettings({ db, userId: user.id, settings: { ...TEST_SETTINGS, ...settings } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-agent-ws-"));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  const workspace = await createWorkspace({ db, ownerId: user.id, name: "ws", path: dir });
  const policy = await getOrCreatePolicy({ db, ownerId: user.id, baseModel: TEST_MODEL_NAME, backend: "embedded", loraRank: TEACH_SPEC.rank });
  await createCheckpoint({ db, ownerId: user.id, policyId: policy.id, step: 0, name: "taught", path: taught.statePath, kind: "state" });
  return { user, workspace, dir, policy };
}
