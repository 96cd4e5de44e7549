import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, describe, expect, it } from "vitest";
import { readEnv, resolveConfig } from "@/lib/config";
import { modelDefaults } from "@/lib/training/model-defaults";
import { describeDatabase, migrateDatabase, planServe } from "./serve";
import type { Terminal } from "./status-lines";

describe("planServe", () => {
  const root = "/opt/continualcode";

  it("hands the flags to the server through its environment, so the server resolves the same config", () => {
    const plan = planServe({
      argv: ["--port", "3100", "--temperature", "0.2", "--no-training", "--data-dir", "state"],
      env: { HOME: "/home/x", TINKER_API_KEY: "tml-k", CONTINUALCODE_TEMPERATURE: "0.9" },
      cwd: "/srv",
      root,
    });
    expect(plan.dataDir).toBe("/srv/state");
    expect(plan.env).toMatchObject({
      HOME: "/home/x",
      CONTINUALCODE_ROOT: root,
      CONTINUALCODE_DATA_DIR: "/srv/state",
      CONTINUALCODE_PORT: "3100",
      CONTINUALCODE_TEMPERATURE: "0.2",
      CONTINUALCODE_TRAINING: "false",
    });
    // The server resolves as lib/config/server.ts does: with the models' recommendations.
    const server = resolveConfig({ env: plan.env, modelDefaults: modelDefaults() });
    expect(server.config).toEqual({ ...plan.config, dataDir: "/srv/state" });
    expect([server.sources.port, server.sources.temperature, server.sources.tinkerApiKey]).toEqual([
      "flag",
      "flag",
      "env",
    ]);
    expect(readEnv(plan.env).tinkerApiKey).toBe("tml-k");
  });

  it("without flags serves on the default port with ./.data under the working directory", () => {
    const plan = planServe({ argv: [], env: {}, cwd: "/work", root });
    expect([plan.config.port, plan.dataDir]).toEqual([3000, "/work/.data"]);
  });

  it("resolves the learning rate, teacher and rehearsal the bundled model recommends, and says they came from the model", () => {
    const plan = planServe({ argv: [], env: {}, cwd: "/work", root });
    const { learningRate, teacherMode, rehearsalCalls, rehearsalWeight } = plan.config;
    expect([learningRate, teacherMode, rehearsalCalls, rehearsalWeight]).toEqual([0.002, "frozen", 8, 0.3]);
    expect(plan.sources).toEqual({
      learningRate: "model",
      teacherMode: "model",
      rehearsalCalls: "model",
      rehearsalWeight: "model",
    });
  });

  it("names where each value that is not the default came from", () => {
    const plan = planServe({
      argv: ["--learning-rate", "0.0001"],
      env: { CONTINUALCODE_MAX_STEPS: "7" },
      cwd: "/work",
      root,
    });
    expect(plan.config.learningRate).toBe(0.0001);
    expect(plan.sources).toEqual({
      learningRate: "flag",
      maxSteps: "env",
      teacherMode: "model",
      rehearsalCalls: "model",
      rehearsalWeight: "model",
    });
  });

  it("turns Next's telemetry off for the build and the server, whatever the environment says", () => {
    const plan = planServe({ argv: [], env: { NEXT_TELEMETRY_DISABLED: "0" }, cwd: "/work", root });
    expect(plan.env.NEXT_TELEMETRY_DISABLED).toBe("1");
  });

  it("throws the flag's error for a bad flag", () => {
    expect(() => planServe({ argv: ["--port", "http"], env: {}, cwd: "/", root })).toThrow(
      "--port: expected a number, got 'http'",
    );
  });
});

describe("describeDatabase", () => {
  it("names PGlite's directory inside the data directory", () => {
    expect(describeDatabase({ url: undefined, dataDir: "/srv/cc" })).toBe("PGlite in /srv/cc/db");
  });

  it("names PostgreSQL's host and database but never its password", () => {
    expect(describeDatabase({ url: "postgres://cc:s3cret@db.internal:5433/team", dataDir: "/srv/cc" })).toBe(
      "PostgreSQL at db.internal:5433/team",
    );
  });
});

/** A terminal that keeps what is written, as a pipe would receive it. */
function pipeTerminal(): Terminal & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY: false, write: (t) => void chunks.push(t), text: () => chunks.join("") };
}

describe("migrateDatabase", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("migrates a fresh PGlite data directory on one line and leaves it closed for the server", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-serve-"));
    dirs.push(dataDir);
    const term = pipeTerminal();
    expect(await migrateDatabase({ plan: { dataDir, env: {} }, term })).toBe(true);
    expect(term.text()).toMatch(
      new RegExp(`^continualcode: migrating the database \\(PGlite in ${dataDir}/db\\) … done in [\\d.]+ m?s\\n$`),
    );
    // Closed: another process (here, this one again) can open the directory and finds the schema.
    const db = new PGlite(path.join(dataDir, "db"));
    const tables = await db.query<{ n: number }>(
      "select count(*)::int as n from information_schema.tables where table_name = 'workspace'",
    );
    await db.close();
    expect(tables.rows).toEqual([{ n: 1 }]);
  });

  it("stops the start with the reason when the database cannot be reached", async () => {
    const term = pipeTerminal();
    const ok = await migrateDatabase({
      plan: { dataDir: "/unused", env: { DATABASE_URL: "postgres://cc:pw@127.0.0.1:1/none" } },
      term,
    });
    expect(ok).toBe(false);
    const [first, second] = term.text().split("\n");
    expect(first).toMatch(
      /^continualcode: migrating the database \(PostgreSQL at 127\.0\.0\.1:1\/none\) … failed after /,
    );
    expect(second).toMatch(/^continualcode: .*ECONNREFUSED/);
  });
});

describe("the continualcode command", () => {
  /** Runs bin/continualcode as `npm start` does, with nothing it could build or serve. */
  function continualcode(args: string[]) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-cli-"));
    try {
      return spawnSync(process.execPath, ["bin/continualcode", ...args, "--data-dir", dataDir], {
        encoding: "utf8",
        timeout: 20_000,
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it("refuses a port already in use before it builds or migrates anything", async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const out = continualcode(["--port", String(port)]);
      expect([out.status, out.stderr]).toEqual([
        1,
        `continualcode: port ${port} is already in use: stop what listens there, or choose another port with --port\n`,
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("names a bad flag and exits 2", () => {
    const out = continualcode(["--lora-rank", "3"]);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/^continualcode: --lora-rank: /);
  });
});
