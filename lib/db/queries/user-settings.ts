// Server code: a user's overrides of the configuration, stored as one JSON object. Validation
// belongs to lib/config (validateUserSettings) before saving; this layer stores what it is given.
import { eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import { userSetting } from "../schema";

export async function getUserSettings({ db, userId }: { db?: Db; userId: string }): Promise<Record<string, unknown>> {
  const d = await resolveDb(db);
  const [row] = await d
    .select({ settings: userSetting.settings })
    .from(userSetting)
    .where(eq(userSetting.userId, userId));
  return row?.settings ?? {};
}

/** Replaces the user's overrides with `settings` (a key left out falls back to flag/env/default). */
export async function saveUserSettings({
  db,
  userId,
  settings,
}: {
  db?: Db;
  userId: string;
  settings: Record<string, unknown>;
}): Promise<Record<string, unknown>> {
  const d = await resolveDb(db);
  const [row] = await d
    .insert(userSetting)
    .values({ userId, settings })
    .onConflictDoUpdate({ target: userSetting.userId, set: { settings, updatedAt: new Date() } })
    .returning({ settings: userSetting.settings });
  return row!.settings;
}
