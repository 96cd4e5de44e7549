/**
 * The key better-auth signs session cookies with. `BETTER_AUTH_SECRET` wins when set; otherwise a
 * random secret is made on first start and kept as an instance setting, so `npm start` works with
 * no setup, sessions survive restarts, and instances sharing one PostgreSQL agree on it.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "@/lib/db/client";
import { getInstanceSetting, setInstanceSetting } from "@/lib/db/queries/instance-settings";

const SECRET_KEY = "auth_secret";

export async function authSecret(db: Db): Promise<string> {
  const fromEnv = process.env.BETTER_AUTH_SECRET;
  if (fromEnv) return fromEnv;
  const stored = await getInstanceSetting<string | null>({ db, key: SECRET_KEY, fallback: null });
  if (typeof stored === "string" && stored.length >= 32) return stored;
  await setInstanceSetting({ db, key: SECRET_KEY, value: randomBytes(32).toString("base64url") });
  // Read back rather than use what was written: another instance may have written at the same time.
  return getInstanceSetting<string>({ db, key: SECRET_KEY, fallback: "" });
}
