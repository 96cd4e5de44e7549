/**
 * One drizzle database for the process, on either driver: PostgreSQL through postgres-js when
 * DATABASE_URL is set (a team, several app instances), else PGlite in the data directory (one
 * machine, no setup, one process: see data-dir-lock.ts), on a thread of its own (pglite-thread/).
 * Same schema and same queries on both. The migrations in drizzle/ are applied
 * at first use; on PostgreSQL under an advisory lock, so instances starting together migrate once.
 */
import fs from "node:fs";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { FIELDS } from "@/lib/config/fields";
import { projectPath } from "@/lib/paths";
import { runtimeSlot } from "@/lib/runtime-slot";
import { lockDataDir } from "./data-dir-lock";
import { PgliteThread } from "./pglite-thread/client";
import * as schema from "./schema";

/** A database on either driver, or a transaction on one: every query accepts any of them. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DbHandle = {
  db: Db;
  close: () => Promise<void>;
  /**
   * No other process writes this database: PGlite's data directory is locked to the process that
   * opened it. Readers that poll for other processes' writes (the SSE route) can then rely on this
   * process's event bus. PostgreSQL may be shared by several app instances.
   */
  soleWriter: boolean;
};

export type CreateDbOptions = {
  /** A PostgreSQL URL; when given, `dataDir` is ignored. */
  url?: string;
  /** PGlite's data directory's parent (the database lives in `<dataDir>/db`), or "memory". */
  dataDir?: string | "memory";
};

// Any number works as long as it is fixed: it names the lock every instance waits on.
const MIGRATION_LOCK_KEY = 7_303_421_117;

function migrationsFolder(): string {
  return projectPath("drizzle");
}

/** Opens a database on the driver the options name and brings its schema up to date. */
export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  if (options.url) return openPostgres(options.url);
  return openPglite(options.dataDir ?? defaultDataDir());
}

async function openPostgres(url: string): Promise<DbHandle> {
  await migratePostgresOnce(url);
  const client = postgres(url, { onnotice: () => {} });
  const db = drizzlePostgres(client, { schema });
  return { db, close: () => client.end({ timeout: 5 }), soleWriter: false };
}

/** A one-connection client holds the session-level advisory lock for the whole migration. */
async function migratePostgresOnce(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder: migrationsFolder() });
    await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

async function openPglite(dataDir: string): Promise<DbHandle> {
  let location = "memory";
  let unlock = () => {};
  if (dataDir !== "memory") {
    // The hint keeps the bundler from tracing a run-time directory into the build.
    const root = path.resolve(/*turbopackIgnore: true*/ dataDir);
    // Before PGlite touches the files: a second opener would corrupt them (see data-dir-lock).
    unlock = lockDataDir(root).release;
    location = path.join(root, "db");
    fs.mkdirSync(location, { recursive: true });
  }
  let client: PgliteThread;
  try {
    client = await PgliteThread.open(location);
  } catch (err) {
    unlock();
    throw err;
  }
  const close = async () => {
    try {
      await client.close();
    } finally {
      unlock();
    }
  };
  try {
    // The driver calls only query and transaction, which PgliteThread provides with PGlite's signatures.
    const db = drizzlePglite(client as unknown as PGlite, { schema });
    await migratePglite(db, { migrationsFolder: migrationsFolder() });
    // This process holds the directory's lock, so any lease in it is a previous process's.
    await db.delete(schema.lease);
    return { db, close, soleWriter: true };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

export function defaultDataDir(): string {
  return process.env.CONTINUALCODE_DATA_DIR || FIELDS.dataDir.default;
}

/**
 * The process's database: the runtime's (lib/runtime.ts, started by instrumentation.ts or the
 * CLI before anything is served). Throws when no runtime was started: a script or test opens its
 * own database with createDb and passes it down.
 */
export function getDb(): Promise<Db> {
  const runtime = runtimeSlot.current();
  if (!runtime) return Promise.reject(new Error("no process runtime: start one with getRuntime() (lib/runtime.ts)"));
  return runtime.then((r) => r.db);
}

/** The given database or transaction, else the process's: lets every query join a transaction. */
export function resolveDb(db: Db | undefined): Promise<Db> {
  return db ? Promise.resolve(db) : getDb();
}

export { schema };
