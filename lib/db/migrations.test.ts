/**
 * Upgrading a database that already holds rows: one made by the migrations before the closed-set
 * CHECK constraints, filled with every value each such column may hold, is migrated to the newest
 * schema on each driver; nothing is lost, and from then on a bad value is refused. A database
 * holding a value outside a set is not upgraded at all (the migrations run in one transaction).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { projectPath } from "@/lib/paths";
import {
  ADAPTER_VERSION_EVENTS,
  ALLOW_RULE_KINDS,
  CHECKPOINT_KINDS,
  CHECKPOINT_ORIGINS,
  CONVERSATION_EVENT_TYPES,
  CONVERSATION_STATES,
  CORRECTION_KINDS,
  LEASE_KINDS,
  MESSAGE_ROLES,
  POLICY_BACKENDS,
  TOOL_CALL_STATUSES,
  TRAINING_STEP_LOSS_FNS,
  TRAINING_STEP_STATUSES,
  USER_ROLES,
} from "./enums";

/** The migration that added the CHECK constraints: the upgrade starts from the one before it. */
const CHECKS_TAG = "0004_checked_enums";
const FOLDER = projectPath("drizzle");

type Journal = { entries: { idx: number; tag: string }[] } & Record<string, unknown>;

/** A copy of drizzle/ holding only the migrations before `tag`: what an older release shipped. */
function migrationsBefore(tag: string): string {
  const journal = JSON.parse(fs.readFileSync(path.join(FOLDER, "meta", "_journal.json"), "utf8")) as Journal;
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  if (cut < 0) throw new Error(`no migration ${tag} in the journal`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-migrations-"));
  fs.mkdirSync(path.join(dir, "meta"));
  const entries = journal.entries.slice(0, cut);
  for (const e of entries) fs.copyFileSync(path.join(FOLDER, `${e.tag}.sql`), path.join(dir, `${e.tag}.sql`));
  fs.writeFileSync(path.join(dir, "meta", "_journal.json"), JSON.stringify({ ...journal, entries }));
  return dir;
}

/** An empty database on one driver, migrated only when asked to, with raw SQL for the rows. */
type Blank = {
  migrate: (folder: string) => Promise<void>;
  exec: (statements: string) => Promise<void>;
  rows: (query: string) => Promise<Record<string, unknown>[]>;
  close: () => Promise<void>;
};

async function blankPglite(): Promise<Blank> {
  const client = new PGlite();
  const db = drizzlePglite(client);
  return {
    migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
    exec: async (statements) => {
      await client.exec(statements);
    },
    rows: async (query) => (await client.query<Record<string, unknown>>(query)).rows,
    close: () => client.close(),
  };
}

async function blankPostgres(serverUrl: string): Promise<Blank> {
  const name = `cc_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const client = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const db = drizzlePostgres(client);
  return {
    migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
    exec: async (statements) => {
      await client.unsafe(statements).simple();
    },
    rows: async (query) => [...(await client.unsafe<Record<string, unknown>[]>(query))],
    close: async () => {
      await client.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

const q = (v: string | number | null) => (v === null ? "null" : typeof v === "number" ? String(v) : `'${v}'`);
const insert = (table: string, row: Record<string, string | number | null>) =>
  `insert into "${table}" (${Object.keys(row)
    .map((k) => `"${k}"`)
    .join(", ")}) values (${Object.values(row).map(q).join(", ")});`;
const id = () => crypto.randomUUID();

/** Rows holding every value of every closed-set column, as the older schema stored them. */
function everyValueRows(): string {
  const out: string[] = [];
  const users = USER_ROLES.map((role, i) => ({ id: id(), name: `u${i}`, email: `u${i}@example.test`, role }));
  for (const u of users) out.push(insert("user", u));
  const owner = users[0]!.id;
  const ws = id();
  out.push(insert("workspace", { id: ws, owner_id: owner, name: "w", path: "/w" }));
  const policies = POLICY_BACKENDS.map((backend) => ({
    id: id(),
    owner_id: owner,
    name: backend,
    base_model: "m",
    backend,
    lora_rank: 8,
  }));
  for (const p of policies) out.push(insert("policy", p));
  const policy = policies[0]!.id;
  const convs = CONVERSATION_STATES.map((state) => ({ id: id(), owner_id: owner, workspace_id: ws, state }));
  for (const c of convs) out.push(insert("conversation", c));
  const conv = convs[0]!.id;
  const messages = MESSAGE_ROLES.map((role, seq) => ({
    id: id(),
    owner_id: owner,
    conversation_id: conv,
    seq,
    role,
    content: role,
    meta: JSON.stringify({ kind: role === "user" ? "task" : undefined }),
  }));
  for (const m of messages) out.push(insert("message", m));
  const assistant = messages.find((m) => m.role === "assistant")!.id;
  const calls = TOOL_CALL_STATUSES.map((status) => ({
    id: id(),
    owner_id: owner,
    conversation_id: conv,
    message_id: assistant,
    name: "read",
    args: '{"path":"a"}',
    status,
  }));
  for (const c of calls) out.push(insert("tool_call", c));
  for (const kind of CORRECTION_KINDS)
    out.push(insert("correction", { id: id(), owner_id: owner, conversation_id: conv, kind, text: kind }));
  const steps = TRAINING_STEP_LOSS_FNS.map((loss_fn, i) => ({
    id: id(),
    owner_id: owner,
    policy_id: policy,
    loss_fn,
    status: TRAINING_STEP_STATUSES[i % TRAINING_STEP_STATUSES.length]!,
  }));
  for (const s of steps) out.push(insert("training_step", s));
  for (const origin of CHECKPOINT_ORIGINS)
    for (const kind of CHECKPOINT_KINDS)
      out.push(
        insert("checkpoint", {
          id: id(),
          owner_id: owner,
          policy_id: policy,
          step: 0,
          name: kind,
          path: "/c",
          kind,
          origin,
        }),
      );
  ADAPTER_VERSION_EVENTS.forEach((event, number) => {
    out.push(
      insert("adapter_version", {
        id: id(),
        owner_id: owner,
        policy_id: policy,
        number: number + 1,
        event,
        source_version: number,
        optimizer_step: number,
      }),
    );
  });
  for (const kind of ALLOW_RULE_KINDS)
    out.push(insert("allow_rule", { id: id(), owner_id: owner, tool: "read", kind }));
  for (const type of CONVERSATION_EVENT_TYPES)
    out.push(insert("conversation_event", { owner_id: owner, conversation_id: conv, type, payload: "{}" }));
  for (const kind of LEASE_KINDS)
    out.push(insert("lease", { kind, resource_id: id(), holder: "h", expires_at: "2100-01-01T00:00:00Z" }));
  return out.join("\n");
}

/** Each closed-set column's stored values, sorted: what an upgrade must leave exactly as it was. */
const COLUMNS = [
  ["user", "role"],
  ["policy", "backend"],
  ["conversation", "state"],
  ["message", "role"],
  ["tool_call", "status"],
  ["correction", "kind"],
  ["training_step", "status"],
  ["training_step", "loss_fn"],
  ["checkpoint", "origin"],
  ["checkpoint", "kind"],
  ["adapter_version", "event"],
  ["allow_rule", "kind"],
  ["conversation_event", "type"],
  ["lease", "kind"],
] as const;

async function storedValues(db: Blank): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, column] of COLUMNS)
    out[`${table}.${column}`] = (await db.rows(`select "${column}" as v from "${table}" order by 1`)).map((r) => r.v);
  return out;
}

/** The database's words for a failure, wherever the driver or drizzle put them. */
async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    let messages = "";
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages += ` ${e.message}`;
    return messages;
  }
  return "succeeded";
}

/** The CHECK constraints on our tables (the catalog's own are elsewhere). */
const CHECK_CONSTRAINTS = `select c.conname from pg_constraint c
  join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
  where n.nspname = 'public' and c.contype = 'c'`;

const drivers: { name: string; open: () => Promise<Blank> }[] = [{ name: "pglite", open: blankPglite }];
const serverUrl = process.env.TEST_DATABASE_URL;
if (serverUrl) drivers.push({ name: "postgres", open: () => blankPostgres(serverUrl) });

const before = migrationsBefore(CHECKS_TAG);
afterAll(() => fs.rmSync(before, { recursive: true, force: true }));

for (const driver of drivers) {
  describe(`upgrading a filled database (${driver.name})`, () => {
    it("a database with every allowed value upgrades with every row as it was, then refuses a bad value", async () => {
      const db = await driver.open();
      try {
        await db.migrate(before);
        await db.exec(everyValueRows());
        const stored = await storedValues(db);
        expect(stored["tool_call.status"]).toHaveLength(TOOL_CALL_STATUSES.length);

        await db.migrate(FOLDER);

        expect(await storedValues(db)).toEqual(stored);
        expect(await failure(db.exec(`update "correction" set "kind" = 'praise'`))).toContain(
          'violates check constraint "correction_kind_check"',
        );
      } finally {
        await db.close();
      }
    });

    it("a database holding a value outside a set is left untouched, and the upgrade names the constraint", async () => {
      const db = await driver.open();
      try {
        await db.migrate(before);
        await db.exec(everyValueRows());
        await db.exec(`update "tool_call" set "status" = 'pending' where "status" = 'proposed'`);
        const stored = await storedValues(db);

        expect(await failure(db.migrate(FOLDER))).toContain('"tool_call_status_check"');

        expect(await storedValues(db)).toEqual(stored);
        // None of the constraints stayed behind: the migration rolled back as a whole.
        expect(await db.rows(CHECK_CONSTRAINTS)).toEqual([]);
      } finally {
        await db.close();
      }
    });
  });
}
