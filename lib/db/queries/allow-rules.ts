// Server code: a user's "always allow" rules (a whole tool, a path glob, or a bash command
// prefix). Matching a call against them is lib/agent's job; this stores and lists them.
import { and, asc, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { AllowRuleKind } from "../enums";
import { type AllowRule, allowRule } from "../schema";

export type { AllowRuleKind };

export async function createAllowRule({
  db,
  ownerId,
  tool,
  kind,
  pattern = null,
}: {
  db?: Db;
  ownerId: string;
  tool: string;
  kind: AllowRuleKind;
  pattern?: string | null;
}): Promise<AllowRule> {
  const d = await resolveDb(db);
  const [row] = await d.insert(allowRule).values({ ownerId, tool, kind, pattern }).returning();
  return row!;
}

export async function listAllowRulesByOwner({ db, ownerId }: { db?: Db; ownerId: string }): Promise<AllowRule[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(allowRule)
    .where(eq(allowRule.ownerId, ownerId))
    .orderBy(asc(allowRule.createdAt), asc(allowRule.id));
}

/** The deleted rule, or null when the owner has no such rule. */
export async function deleteAllowRule({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<AllowRule | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .delete(allowRule)
    .where(and(eq(allowRule.id, id), eq(allowRule.ownerId, ownerId)))
    .returning();
  return row ?? null;
}
