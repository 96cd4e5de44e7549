/**
 * Test support for the agent: a user with settings for deterministic runs (greedy sampling, short
 * replies), a workspace directory with files, and a policy that starts from the taught test
 * model's state (a checkpoint row, exactly as a restart would resume one).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import type { Db } from "@/lib/db/client";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import type { Policy, User, Workspace } from "@/lib/db/schema";
import { makeUser } from "@/lib/db/test-db";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { TEACH_SPEC, TEST_MODEL_NAME } from "./test-fixtures";
import { taughtTestModel, type Taught } from "./test-model";

/** Greedy sampling and short replies: an untaught prompt costs little and every run is the same. */
export const TEST_SETTINGS = {
  temperature: 0,
  maxTokens: 40,
  model: TEST_MODEL_NAME,
  loraRank: TEACH_SPEC.rank,
} as const;

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
  const policy = await getOrCreatePolicy({
    db,
    ownerId: user.id,
    baseModel: TEST_MODEL_NAME,
    backend: "embedded",
    loraRank: TEACH_SPEC.rank,
  });
  await createCheckpoint({
    db,
    ownerId: user.id,
    policyId: policy.id,
    step: 0,
    name: "taught",
    path: taught.statePath,
    kind: "state",
  });
  return { user, workspace, dir, policy };
}

/** What a describe block over the taught test model needs, filled in before its first test. */
export type TaughtBackend = { renderer: Renderer; taught: Taught; backend: EmbeddedBackend };

/**
 * The renderer, the taught test model and an embedded backend over it, made once before a describe
 * block's tests (teaching takes a while on 2 cores) and closed, with its states folder, after them.
 */
export function useTaughtBackend(name: string): TaughtBackend {
  const env = {} as TaughtBackend;
  let statesDir: string | undefined;
  beforeAll(async () => {
    env.renderer = await getRenderer(TEST_MODEL_NAME);
    env.taught = await taughtTestModel(TEACH_SPEC, env.renderer);
    statesDir = fs.mkdtempSync(path.join(os.tmpdir(), `cc-${name}-states-`));
    env.backend = createEmbeddedBackend({ models: { [TEST_MODEL_NAME]: { dir: env.taught.modelDir } }, statesDir });
  }, 600_000);
  afterAll(async () => {
    await env.backend?.close();
    if (statesDir) fs.rmSync(statesDir, { recursive: true, force: true });
  });
  return env;
}
