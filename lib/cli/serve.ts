/**
 * `continualcode [flags]`: serve the app. Parse the flags (a bad one names itself and exits 2),
 * resolve them with the environment, create the data directory, build the Next.js app once if it
 * has never been built, then run `next start` with the configuration in its environment (where
 * lib/config's readEnv finds it), forwarding SIGINT/SIGTERM and exiting with the server's code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import {
  type Config,
  ConfigError,
  type Env,
  flagsToEnv,
  parseFlags,
  publicConfig,
  resolveConfig,
} from "@/lib/config";
import { log } from "@/lib/log";
import { projectRoot } from "@/lib/paths";

export type ServePlan = {
  config: Config;
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
}: {
  argv: readonly string[];
  env: Env;
  cwd: string;
  root: string;
}): ServePlan {
  const flags = parseFlags(argv);
  const { config } = resolveConfig({ flags, env });
  const dataDir = path.resolve(cwd, config.dataDir);
  const inherited = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return {
    config,
    dataDir,
    env: { ...inherited, ...flagsToEnv(flags), CONTINUALCODE_DATA_DIR: dataDir, CONTINUALCODE_ROOT: root },
  };
}

function nextBin(root: string): string {
  return createRequire(path.join(root, "package.json")).resolve("next/dist/bin/next");
}

/** Runs a child node process to completion with inherited stdio, passing our signals on. */
function runChild(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    // Next's types require NODE_ENV in every env object; `next` sets it itself.
    const env = options.env as NodeJS.ProcessEnv;
    const child: ChildProcess = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1));
    });
  });
}

export async function run(argv: string[]): Promise<number> {
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
  const next = nextBin(root);

  // 1. Build once: `next start` needs a production build, and a fresh checkout has none.
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) {
    log.info("building the app (first run)", { root });
    const code = await runChild([next, "build"], { cwd: root, env: plan.env });
    if (code !== 0) {
      process.stderr.write(`continualcode: next build failed (exit ${code})\n`);
      return code;
    }
  }

  // 2. Serve until the server exits or we are told to stop.
  log.info("starting", {
    port: plan.config.port,
    dataDir: plan.dataDir,
    database: plan.env.DATABASE_URL ? "postgresql" : "pglite",
    config: publicConfig(plan.config),
  });
  return runChild([next, "start", "-p", String(plan.config.port)], { cwd: root, env: plan.env });
}
