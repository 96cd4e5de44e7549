import { getTableName, is, sql } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "./client";
import { appendEvent } from "./queries/events";
import { recordAdapterVersion } from "./queries/adapter-versions";
import { createAllowRule } from "./queries/allow-rules";
import { createCheckpoint } from "./queries/checkpoints";
import { createConversation } from "./queries/conversations";
import { createCorrection } from "./queries/corrections";
import { acquireLease } from "./queries/leases";
import { appendMessage } from "./queries/messages";
import { getOrCreatePolicy } from "./queries/policies";
import { createToolCall } from "./queries/tool-calls";
import { enqueueTrainingStep } from "./queries/training-steps";
import { createWorkspace } from "./queries/workspaces";
import * as schema from "./schema";
import { forEachDriver, makeUser } from "./test-db";

/** Every closed-set column of the schema, found from the schema itself so a new one is covered too. */
const ENUM_COLUMNS = Object.values(schema as Record<string, unknown>)
  .filter((v): v is PgTable => is(v, PgTable))
  .flatMap((table) =>
    getTableConfig(table)
      .columns.filter((c) => c.enumValues !== undefined)
      .map((c) => ({ table: getTableName(table), column: c.name, values: c.enumValues as string[] })),
  );

/** One row in every table that has a closed-set column, written through the ordinary queries. */
async function seedOneRowEach(db: Db): Promise<void> {
  const u = await makeUser(db);
  const ws = await createWorkspace({ db, ownerId: u.id, name: "w", path: "/w" });
  const p = await getOrCreatePolicy({ db, ownerId: u.id, baseModel: "m", backend: "embedded", loraRank: 8 });
  const conv = await createConversation({ db, ownerId: u.id, workspaceId: ws.id, policyId: p.id });
  const msg = await appendMessage({
    db,
    ownerId: u.id,
    conversationId: conv.id,
    message: { role: "assistant", content: "", meta: { stopReason: "stop" } },
  });
  const call = await createToolCall({
    db,
    ownerId: u.id,
    conversationId: conv.id,
    messageId: msg.id,
    name: "read",
    args: { path: "a" },
  });
  await createCorrection({
    db,
    ownerId: u.id,
    conversationId: conv.id,
    toolCallId: call.id,
    kind: "approval",
    text: "",
  });
  const step = await enqueueTrainingStep({ db, ownerId: u.id, policyId: p.id, lossFn: "importance_sampling" });
  await createCheckpoint({ db, ownerId: u.id, policyId: p.id, step: 0, name: "c", path: "/c", kind: "state" });
  await recordAdapterVersion({
    db,
    version: {
      ownerId: u.id,
      policyId: p.id,
      event: "trained",
      sourceVersion: 0,
      trainingStepId: step.id,
      optimizerStep: 1,
    },
  });
  await createAllowRule({ db, ownerId: u.id, tool: "read", kind: "tool" });
  await appendEvent({ db, ownerId: u.id, conversationId: conv.id, type: "state", payload: { state: "idle" } });
  await acquireLease({ db, resource: { kind: "conversation", id: conv.id }, holder: "test", ttlMs: 60_000 });
}

/** The database's own words for a refused write, wherever the driver put them. */
async function refusal(write: Promise<unknown>): Promise<string> {
  try {
    await write;
  } catch (error) {
    let messages = "";
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages += ` ${e.message}`;
    return messages;
  }
  return "accepted";
}

const setAll = (db: Db, table: string, column: string, value: string) =>
  db.execute(sql`update ${sql.identifier(table)} set ${sql.identifier(column)} = ${value}`);

it("the schema gives each closed-set column its list of values", () => {
  expect(ENUM_COLUMNS.map((c) => `${c.table}.${c.column}`).sort()).toEqual([
    "adapter_version.event",
    "allow_rule.kind",
    "checkpoint.kind",
    "checkpoint.origin",
    "conversation.state",
    "conversation_event.type",
    "correction.kind",
    "lease.kind",
    "message.role",
    "policy.backend",
    "tool_call.status",
    "training_step.loss_fn",
    "training_step.status",
    "user.role",
  ]);
});

forEachDriver("closed-set columns", (db) => {
  beforeAll(async () => {
    await seedOneRowEach(db());
  });

  for (const { table, column, values } of ENUM_COLUMNS) {
    it(`${table}.${column} takes each of its values and refuses any other`, async () => {
      for (const value of values) await setAll(db(), table, column, value);
      const seeded = rowsOf(await db().execute(sql`select 1 from ${sql.identifier(table)}`));
      expect(seeded.length).toBeGreaterThan(0);
      expect(await refusal(setAll(db(), table, column, "not_a_value"))).toContain(
        `violates check constraint "${table}_${column}_check"`,
      );
      // The refused write changed nothing: the column still holds the last accepted value.
      const rows = await db().execute(sql`select ${sql.identifier(column)} as v from ${sql.identifier(table)}`);
      expect(new Set(rowsOf(rows).map((r) => r.v))).toEqual(new Set([values.at(-1)]));
    });
  }

  it("without its CHECK constraint the same bad write goes through (the constraint is what refuses it)", async () => {
    await db().execute(sql`alter table "correction" drop constraint "correction_kind_check"`);
    try {
      expect(await refusal(setAll(db(), "correction", "kind", "not_a_value"))).toBe("accepted");
    } finally {
      await setAll(db(), "correction", "kind", "approval");
      await db().execute(
        sql`alter table "correction" add constraint "correction_kind_check" check (${sql.raw(
          `"correction"."kind" in (${schema.correction.kind.enumValues.map((v) => `'${v}'`).join(", ")})`,
        )})`,
      );
    }
  });
});

/** Rows of a raw query on either driver (PGlite's result has `rows`; postgres-js's is the array). */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return Array.isArray(result) ? result : ((result as { rows: Record<string, unknown>[] }).rows ?? []);
}
