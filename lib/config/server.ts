/**
 * The configuration inside the server process. The operator's part (flags, which the command
 * passed through the environment, and the environment itself) is read once per process; a user's
 * configuration adds their stored settings on top. Server code: it reads the database.
 */
import type { Db } from "@/lib/db/client";
import { getUserSettings } from "@/lib/db/queries/user-settings";
import type { Env } from "./env";
import { type ResolvedConfig, resolveConfig } from "./resolve";

let cached: { env: Env; resolved: ResolvedConfig } | undefined;

/** Flags + environment + defaults, without any user's settings. */
export function serverConfig(env: Env = process.env): ResolvedConfig {
  if (cached?.env !== env) cached = { env, resolved: resolveConfig({ env }) };
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
  return resolveConfig({ env, user });
}
