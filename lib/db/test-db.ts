/**
 * Real databases for tests: an in-memory PGlite always, and a fresh PostgreSQL database when
 * TEST_DATABASE_URL names a server (CI). `forEachDriver` runs one suite on each, so every query is
 * proven on both drivers. PostgreSQL databases are created per suite (cc_test_<random>) and dropped
 * on close, so parallel test files never see each other's rows.
 */
import { afterAll, beforeAll, describe } from "vitest";
import postgres from "postgres";
import { createDb, type Db, type DbHandle } from "./client";
import { createUser } from "./queries/users";
import type { User } from "./schema";

/** An in-memory PGlite with every migration applied. */
export function createTestDb(): Promise<DbHandle> {
  return createDb({ dataDir: "memory" });
}

/** A new, migrated database on the TEST_DATABASE_URL server; close() drops it. */
export async function createPgTestDb(serverUrl = process.env.TEST_DATABASE_URL): Promise<DbHandle> {
  if (!serverUrl) throw new Error("createPgTestDb needs TEST_DATABASE_URL");
  const name = `cc_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dropDatabase = async () => {
    const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
    try {
      await dropper.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await dropper.end({ timeout: 5 });
    }
  };
  let handle: DbHandle;
  try {
    handle = await createDb({ url: url.toString() });
  } catch (err) {
    await dropDatabase();
    throw err;
  }
  return {
    db: handle.db,
    soleWriter: handle.soleWriter,
    close: async () => {
      await handle.close();
      await dropDatabase();
    },
  };
}

export type TestDriver = { name: "pglite" | "postgres"; open: () => Promise<DbHandle> };

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set. */
export function testDrivers(): TestDriver[] {
  const drivers: TestDriver[] = [{ name: "pglite", open: createTestDb }];
  if (process.env.TEST_DATABASE_URL) drivers.push({ name: "postgres", open: () => createPgTestDb() });
  return drivers;
}

/**
 * Declares the suite `body` once per driver, each with its own database for the whole suite.
 * `body` receives a getter (the database exists only once beforeAll has run).
 */
export function forEachDriver(title: string, body: (db: () => Db, driver: TestDriver["name"]) => void): void {
  for (const driver of testDrivers()) {
    describe(`${title} (${driver.name})`, () => {
      let handle: DbHandle | undefined;
      beforeAll(async () => {
        handle = await driver.open();
      });
      afterAll(async () => {
        await handle?.close();
      });
      body(() => {
        if (!handle) throw new Error("the test database is not open yet");
        return handle.db;
      }, driver.name);
    });
  }
}

/** A user with a unique email, for tests that need an owner. */
export function makeUser(db: Db, name = "user"): Promise<User> {
  const tag = crypto.randomUUID().slice(0, 8);
  return createUser({ db, name, email: `${name}-${tag}@example.test` });
}
