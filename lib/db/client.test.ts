import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import postgres from "postgres";
import { createDb, getDb } from "./client";
import { createPgTestDb } from "./test-db";

describe("the process database", () => {
  it("is refused with the way to start one while no process runtime exists", async () => {
    await expect(getDb()).rejects.toThrow(/no process runtime: start one with getRuntime\(\)/);
  });
});

describe("who else writes the database", () => {
  it("PGlite's is this process's alone (its directory is locked to it); PostgreSQL's may be shared", async () => {
    const pglite = await createDb({ dataDir: "memory" });
    expect(pglite.soleWriter).toBe(true);
    await pglite.close();
    if (process.env.TEST_DATABASE_URL) {
      const pg = await createPgTestDb();
      expect(pg.soleWriter).toBe(false);
      await pg.close();
    }
  });
});

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))("PostgreSQL migrations", () => {
  it("instances starting together on a fresh database migrate it once, without errors", async () => {
    const server = process.env.TEST_DATABASE_URL!;
    const name = `cc_test_mig_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = postgres(server, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    try {
      const handles = await Promise.all([0, 1, 2].map(() => createDb({ url: url.toString() })));
      const check = postgres(url.toString(), { max: 1 });
      const [row] = await check`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await check.end();
      const migrations = fs.readdirSync(path.resolve("drizzle")).filter((f) => f.endsWith(".sql"));
      expect(row?.n).toBe(migrations.length);
      await Promise.all(handles.map((h) => h.close()));
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
