/**
 * `continualcode [flags]`: serve the app. Parse the flags (a bad one names itself and exits 2),
 * resolve them with the environment and the model's recommendations, then, one line per phase on
 * stderr: check for a build, build the Next.js app if it has never been built, migrate the
 * database, and run `next start` with the configuration in its environment (where lib/config's
 * readEnv finds it) until it exits, saying where it serves once /api/health answers.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import {
  type Config,
  type ConfigKey,
  ConfigError,
  type Env,
  flagsToEnv,
  parseFlags,
  publicConfig,
  resolveConfig,
  type ValueSource,
} from "@/lib/config";
import type { ModelDefaults } from "@/lib/config/resolve";
import { createDb } from "@/lib/db/client";
import { DataDirLockedError, dataDirHolder } from "@/lib/db/data-dir-lock";
import { log } from "@/lib/log";
import { projectRoot } from "@/lib/paths";
import { modelDefaults } from "@/lib/training/model-defaults";
import { exitCodeOf, INTERRUPTED } from "./child";
import { buildApp } from "./next-build";
import { portInUse, waitUntilServing } from "./server-ready";
import { formatDuration, say, step, stderrTerminal, type Terminal } from "./status-lines";

export type ServePlan = {
  config: Config;
  /** Where each value that is not the default came from (the learning rate: "model"). */
  sources: Partial<Record<ConfigKey, Exclude<ValueSource, "default">>>;
  /** Absolute, so the server finds it whatever its working directory. */
  dataDir: string;
  /** The server process's whole environment. */
  env: Record<string, string>;
};

/** Flags + environment → what to run; throws ConfigError naming a bad flag or variable. */
export function planServe({
  argv,
  env,
  cwd,
  root,
  recommended = modelDefaults(),
}: {
  argv: readonly string[];
  env: Env;
  cwd: string;
  root: string;
  /** What each model recommends for itself; the server resolves with the same files. */
  recommended?: ModelDefaults;
}): ServePlan {
  const flags = parseFlags(argv);
  const { config, sources } = resolveConfig({ flags, env, modelDefaults: recommended });
  const dataDir = path.resolve(cwd, config.dataDir);
  const inherited = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const set = Object.entries(sources).filter(
    (e): e is [ConfigKey, Exclude<ValueSource, "default">] => e[1] !== "default",
  );
  return {
    config,
    sources: Object.fromEntries(set),
    dataDir,
    env: {
      ...inherited,
      ...flagsToEnv(flags),
      CONTINUALCODE_DATA_DIR: dataDir,
      CONTINUALCODE_ROOT: root,
      // Next would otherwise print a telemetry notice on its first run and send usage reports:
      // nothing of this app reaches the internet while it runs.
      NEXT_TELEMETRY_DISABLED: "1",
    },
  };
}

/** The database the migration step names: PGlite's directory, or PostgreSQL's host and database
 * (never the URL itself, which may hold a password). */
export function describeDatabase({ url, dataDir }: { url: string | undefined; dataDir: string }): string {
  if (!url) return `PGlite in ${path.join(dataDir, "db")}`;
  try {
    const parsed = new URL(url);
    return `PostgreSQL at ${parsed.host}${parsed.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

/** A path as the person who typed the command would write it. */
function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

function nextBin(root: string): string {
  return createRequire(path.join(root, "package.json")).resolve("next/dist/bin/next");
}

/** 1. `next start` needs a production build; a fresh checkout has none. Returns an exit code. */
async function ensureBuilt({ root, plan, term }: { root: string; plan: ServePlan; term: Terminal }): Promise<number> {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (fs.existsSync(buildId)) {
    const builtAt = fs.statSync(buildId).mtime.toISOString().slice(0, 16).replace("T", " ");
    say(term, `checking the build … found, built ${builtAt} UTC`);
    return 0;
  }
  say(term, "checking the build … none yet");
  // Measured: 42 s on 2 idle cores, about 4 min on 2 busy ones.
  say(term, "building the app (first start only; about 1–5 min on 2 cores) …");
  const logFile = path.join(plan.dataDir, "logs", "next-build.log");
  // A first build has no cache by definition. On a CI machine Next would warn that none was found
  // (advice for hosted builds that keep .next/cache between runs); the folder it keeps it in is made here.
  fs.mkdirSync(path.join(root, ".next", "cache"), { recursive: true });
  const result = await buildApp({ nextBin: nextBin(root), root, env: plan.env, logFile, term });
  const logName = shown(logFile, process.cwd());
  if (result.ok) {
    say(term, `built the app in ${formatDuration(result.ms)} (next build's output: ${logName})`);
    return 0;
  }
  if (result.code === INTERRUPTED) {
    say(term, "building the app stopped; the next start builds it again");
    return result.code;
  }
  say(term, `building the app failed: next build exited with ${result.code}; the end of its output:`);
  term.write(result.tail.map((line) => `  ${line}\n`).join(""));
  say(term, `all of next build's output: ${logName}`);
  return result.code;
}

/**
 * 2. Apply pending migrations here, before the server opens the database, so the step has a line
 * of its own and a failure stops the start with its reason; the server's own open then finds
 * nothing left to apply. PGlite allows one process per directory, so the handle is closed first.
 */
export async function migrateDatabase({
  plan,
  term,
}: {
  plan: Pick<ServePlan, "dataDir" | "env">;
  term: Terminal;
}): Promise<boolean> {
  const url = plan.env.DATABASE_URL || undefined;
  const migrating = step(term, `migrating the database (${describeDatabase({ url, dataDir: plan.dataDir })})`);
  try {
    const handle = await createDb({ url, dataDir: plan.dataDir });
    await handle.close();
    migrating.end(`done in ${formatDuration(migrating.elapsedMs())}`);
    return true;
  } catch (err) {
    migrating.end(`failed after ${formatDuration(migrating.elapsedMs())}`);
    say(term, err instanceof Error ? err.message : String(err));
    return false;
  }
}

export async function run(argv: string[]): Promise<number> {
  const term = stderrTerminal();
  const root = projectRoot();
  let plan: ServePlan;
  try {
    plan = planServe({ argv, env: process.env, cwd: process.cwd(), root });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`continualcode: ${err.message}\n`);
    return 2;
  }
  fs.mkdirSync(plan.dataDir, { recursive: true });
  // The server takes PGlite's lock when it opens the database; a directory already in use is
  // refused here, at once, instead of after a build.
  const holder = plan.env.DATABASE_URL ? null : dataDirHolder(plan.dataDir);
  if (holder) {
    say(term, new DataDirLockedError(plan.dataDir, holder).message);
    return 1;
  }

  // Likewise a port in use: `next start` would only fail on it after the build and migrations.
  const { port } = plan.config;
  const portTaken = async () => {
    if (!(await portInUse(port))) return false;
    say(term, `port ${port} is already in use: stop what listens there, or choose another port with --port`);
    return true;
  };
  if (await portTaken()) return 1;

  const built = await ensureBuilt({ root, plan, term });
  if (built !== 0) return built;
  if (!(await migrateDatabase({ plan, term }))) return 1;

  // 3. Serve until the server exits or we are told to stop. The port is checked again: a build
  // takes minutes, and another server answering /api/health would pass for ours.
  if (await portTaken()) return 1;
  log.info("starting", {
    port,
    dataDir: plan.dataDir,
    database: plan.env.DATABASE_URL ? "postgresql" : "pglite",
    config: publicConfig(plan.config),
    from: plan.sources,
  });
  const server = spawn(process.execPath, [nextBin(root), "start", "-p", String(port)], {
    cwd: root,
    env: plan.env as NodeJS.ProcessEnv,
    stdio: "inherit",
  });
  const exited = exitCodeOf(server);
  const ready = await waitUntilServing(`http://127.0.0.1:${port}/api/health`, { exited });
  if (ready.status === "answered") {
    const degraded =
      ready.httpStatus === 200 ? "" : `; /api/health answers ${ready.httpStatus}: the database is unreachable`;
    say(term, `serving at http://localhost:${port} (ready in ${formatDuration(ready.ms)})${degraded}`);
  }
  return exited;
}
