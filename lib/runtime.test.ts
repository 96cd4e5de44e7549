/**
 * The process's runtime: one per process, started on first call, its parts wired to each other
 * (the agent publishes on the bus the routes subscribe to; queries without a database use its).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDb, getDb } from "@/lib/db/client";
import { createUser, getUserByEmail } from "@/lib/db/queries/users";
import { FIXTURE_DIR } from "@/lib/training/contract-suite";
import { closeRuntime, createRuntime, getRuntime } from "./runtime";

describe("the process runtime", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cc-runtime-"));
  const saved = { url: process.env.DATABASE_URL, dir: process.env.CONTINUALCODE_DATA_DIR };
  const restore = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  afterAll(async () => {
    await closeRuntime();
    restore("DATABASE_URL", saved.url);
    restore("CONTINUALCODE_DATA_DIR", saved.dir);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("a failed start is forgotten, and the next call opens PGlite in <dataDir>/db once for everyone", async () => {
    process.env.DATABASE_URL = "postgres://nobody@127.0.0.1:1/none";
    await expect(getRuntime()).rejects.toThrow();

    delete process.env.DATABASE_URL;
    process.env.CONTINUALCODE_DATA_DIR = tmp;
    const [a, b] = await Promise.all([getRuntime(), getRuntime()]);
    expect(a).toBe(b);
    expect(fs.existsSync(path.join(tmp, "db", "PG_VERSION"))).toBe(true);
    expect(await getDb()).toBe(a.db);
    await createUser({ name: "kept", email: "kept@example.test" });
    expect(a.policies).toBe(a.agent.core.runtime);
    expect(a.events).toBe(a.agent.core.events);
    await closeRuntime();
    await expect(getDb()).rejects.toThrow(/no process runtime/);
  });

  it("a data directory keeps its rows across reopening, and migrating again changes nothing", async () => {
    const again = await createDb({ dataDir: tmp });
    try {
      expect((await getUserByEmail({ db: again.db, email: "kept@example.test" }))?.name).toBe("kept");
    } finally {
      await again.close();
    }
  });

  it("a runtime made for a test has its own bus, and its health probe asks its own backend", async () => {
    const env = { ...process.env, CONTINUALCODE_MODEL: FIXTURE_DIR };
    const one = await createRuntime({ database: await createDb({ dataDir: "memory" }), env });
    const two = await createRuntime({ database: await createDb({ dataDir: "memory" }), env });
    try {
      expect(one.events).not.toBe(two.events);
      const heard: string[] = [];
      const stop = one.events.subscribeAll((e) => heard.push(e.conversationId));
      two.events.deliver({
        id: 1,
        conversationId: "other",
        type: "state",
        payload: { state: "idle" },
        createdAt: new Date(),
      });
      one.events.deliver({
        id: 1,
        conversationId: "mine",
        type: "state",
        payload: { state: "idle" },
        createdAt: new Date(),
      });
      stop();
      expect(heard).toEqual(["mine"]);
      expect(await one.describeBackend()).toMatchObject({ kind: "embedded", reachable: true });
    } finally {
      await one.close();
      await two.close();
    }
  });
});
