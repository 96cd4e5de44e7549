/**
 * The configuration inside the server process. The operator's part (flags, which the command
 * passed through the environment, and the environment itself) is read once per process; a user's
 * configuration adds their stored settings on top. Server code: it reads the database.
 */
import type { Db } from "@/lib/db/client";
import { getUserSettings } from "@/lib/db/queries/user-settings";
import { modelDefaults } from "@/lib/training/model-defaults";
import type { Env } from "./env";
import { type ResolvedConfig, resolveConfig } from "./resolve";

// One reader for the process: it caches each model's recommendations until their file changes.
const recommendedFor = modelDefaults();

let cached: { env: Env; resolved: ResolvedConfig } | undefined;

/** Flags + environment + the model's recommendations + defaults, without any user's settings. */
export function serverConfig(env: Env = process.env): ResolvedConfig {
  if (cached?.env !== env) cached = { env, resolved: resolveConfig({ env, modelDefaults: recommendedFor }) };
  return cached.resolved;
}

/** The configuration a user's sessions run with: their settings over the server's. */
export async function configForUser({
  db,
  userId,
  env = process.env,
}: {
  db?: Db;
  userId: string;
  env?: Env;
}): Promise<ResolvedConfig> {
  const user = await getUserSettings({ db, userId });
  return resolveConfig({ env, user, modelDefaults: recommendedFor });
}
