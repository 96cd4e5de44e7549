/**
 * The first account of an instance becomes its admin. The decision is one atomic statement: claim
 * the "first_admin" instance setting only while the user table is empty. The key is a primary key,
 * so of two sign-ups racing on an empty instance exactly one claim succeeds, on PGlite and on a
 * PostgreSQL shared by several app instances alike.
 */
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db/client";
import { instanceSetting, user } from "@/lib/db/schema";

export const FIRST_ADMIN_KEY = "first_admin";

/** postgres-js returns the rows as an array, PGlite as `{ rows }`. */
function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return result;
  return (result as { rows?: unknown[] }).rows ?? [];
}

/**
 * Records `email` as the instance's first admin when no user exists yet and nobody claimed it
 * before; true when this call made the claim (the caller then creates the user as admin).
 */
export async function claimFirstAdmin(db: Db, email: string): Promise<boolean> {
  const result = await db.execute(sql`
    insert into ${instanceSetting} (${sql.identifier(instanceSetting.key.name)}, ${sql.identifier(instanceSetting.value.name)})
    select ${FIRST_ADMIN_KEY}, ${JSON.stringify(email)}::jsonb
    where not exists (select 1 from ${user})
    on conflict do nothing
    returning 1 as claimed`);
  return rowsOf(result).length === 1;
}
