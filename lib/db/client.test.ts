import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { closeDb, createDb, getDb } from "./client";
import { createUser, getUserByEmail } from "./queries/users";

describe("the process database", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cc-db-"));
  const saved = { url: process.env.DATABASE_URL, dir: process.env.CONTINUALCODE_DATA_DIR };
  afterAll(async () => {
    await closeDb();
    process.env.DATABASE_URL = saved.url;
    process.env.CONTINUALCODE_DATA_DIR = saved.dir;
    if (saved.url === undefined) delete process.env.DATABASE_URL;
    if (saved.dir === undefined) delete process.env.CONTINUALCODE_DATA_DIR;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("a failed open is forgotten, and the next call opens PGlite in <dataDir>/db once for everyone", async () => {
    process.env.DATABASE_URL = "postgres://nobody@127.0.0.1:1/none";
    await expect(getDb()).rejects.toThrow();

    delete process.env.DATABASE_URL;
    process.env.CONTINUALCODE_DATA_DIR = tmp;
    const [a, b] = await Promise.all([getDb(), getDb()]);
    expect(a).toBe(b);
    expect(fs.existsSync(path.join(tmp, "db", "PG_VERSION"))).toBe(true);
    await createUser({ db: a, name: "kept", email: "kept@example.test" });
    await closeDb();
  });

  it("a data directory keeps its rows across reopening, and migrating again changes nothing", async () => {
    const again = await createDb({ dataDir: tmp });
    try {
      expect((await getUserByEmail({ db: again.db, email: "kept@example.test" }))?.name).toBe("kept");
    } finally {
      await again.close();
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
