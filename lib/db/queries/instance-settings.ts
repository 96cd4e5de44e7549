// Server code: instance-wide settings, one JSON value per key. Absent keys read as their default,
// so a fresh instance needs no seeding (sign-up starts open so the first person can register).
import { eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import { instanceSetting } from "../schema";

const SIGNUP_OPEN = "signup_open";

export async function getInstanceSetting<T>({ db, key, fallback }: { db?: Db; key: string; fallback: T }): Promise<T> {
  const d = await resolveDb(db);
  const [row] = await d
    .select({ value: instanceSetting.value })
    .from(instanceSetting)
    .where(eq(instanceSetting.key, key));
  return row ? (row.value as T) : fallback;
}

export async function setInstanceSetting({ db, key, value }: { db?: Db; key: string; value: unknown }): Promise<void> {
  const d = await resolveDb(db);
  await d
    .insert(instanceSetting)
    .values({ key, value })
    .onConflictDoUpdate({ target: instanceSetting.key, set: { value, updatedAt: new Date() } });
}

export async function isSignupOpen({ db }: { db?: Db } = {}): Promise<boolean> {
  return (await getInstanceSetting<boolean>({ db, key: SIGNUP_OPEN, fallback: true })) === true;
}

export async function setSignupOpen({ db, open }: { db?: Db; open: boolean }): Promise<void> {
  await setInstanceSetting({ db, key: SIGNUP_OPEN, value: open });
}
