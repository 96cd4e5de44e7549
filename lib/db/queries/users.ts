// Server code: user accounts. better-auth creates and signs in users; these read them and manage
// the one column that is ours (role). `createUser` exists for tests and admin scripts.
import { asc, count, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { UserRole } from "../enums";
import { type User, user } from "../schema";

export type Role = UserRole;

export async function countUsers({ db }: { db?: Db } = {}): Promise<number> {
  const d = await resolveDb(db);
  const [row] = await d.select({ n: count() }).from(user);
  return row?.n ?? 0;
}

export async function getUserById({ db, id }: { db?: Db; id: string }): Promise<User | null> {
  const d = await resolveDb(db);
  const [row] = await d.select().from(user).where(eq(user.id, id));
  return row ?? null;
}

export async function getUserByEmail({ db, email }: { db?: Db; email: string }): Promise<User | null> {
  const d = await resolveDb(db);
  const [row] = await d.select().from(user).where(eq(user.email, email.toLowerCase()));
  return row ?? null;
}

/** Every user, oldest first (the admin's list). */
export async function listUsers({ db }: { db?: Db } = {}): Promise<User[]> {
  const d = await resolveDb(db);
  return d.select().from(user).orderBy(asc(user.createdAt), asc(user.id));
}

export async function setUserRole({ db, id, role }: { db?: Db; id: string; role: Role }): Promise<User | null> {
  const d = await resolveDb(db);
  const [row] = await d.update(user).set({ role }).where(eq(user.id, id)).returning();
  return row ?? null;
}

/** Inserts a user row directly (tests, scripts); in the app better-auth does this on sign-up. */
export async function createUser({
  db,
  id = crypto.randomUUID(),
  name,
  email,
  role = "user",
}: {
  db?: Db;
  id?: string;
  name: string;
  email: string;
  role?: Role;
}): Promise<User> {
  const d = await resolveDb(db);
  const [row] = await d.insert(user).values({ id, name, email: email.toLowerCase(), role }).returning();
  return row!;
}
