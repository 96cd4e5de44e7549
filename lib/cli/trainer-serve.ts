/**
 * `continualcode trainer serve`: the Tinker HTTP API over the embedded engine, so a Tinker client
 * (this app on another machine with --tinker-url, or the Python SDK) can train here.
 * Takes `<data-dir>/trainer` for itself (a lock naming this process; a second server on it exits),
 * reopens the sessions, training runs and checkpoints kept there, logs the URL once listening, and
 * stops (server, then engines, then the lock) on SIGINT or SIGTERM.
 */
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { FIELDS } from "@/lib/config/fields";
import { DataDirLockedError, lockDataDir } from "@/lib/db/data-dir-lock";
import { log } from "@/lib/log";
import { operatorBackendConfig } from "@/lib/training";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { defaultCatalogue, EMBEDDED_MODEL, isModelDirectory, type ModelSource } from "@/lib/training/models";
import { decoderForModels } from "@/lib/training/tinker/model-decoder";
import { createTinkerProtocolServer, DEFAULT_MAX_BODY_BYTES } from "@/lib/training/tinker/server";
import { DEFAULT_SEQ_GAP_TIMEOUT_MS } from "@/lib/training/tinker/server-state";
import { ServerStore } from "@/lib/training/tinker/server-store";

const MIB = 1024 * 1024;

/** The Python SDK refuses, before sending, any API key that does not start with this. */
export const SDK_KEY_PREFIX = "tml-";

/** trainer serve's own lock in its directory (the app's database has `pglite.lock` in the data directory). */
export const TRAINER_LOCK_FILE = "serve.lock";

const USAGE = `usage: continualcode trainer serve [--port N] [--host H] [--api-key K] [--model NAME]... [--kernels fast|js] [--data-dir DIR] [--max-body-mib N] [--seq-gap-timeout-sec N]

  --port N       port to listen on (default 8100; 0 picks a free one)
  --host H       address to bind (default 127.0.0.1)
  --api-key K    the X-API-Key clients must send, starting with ${SDK_KEY_PREFIX} as the Tinker SDK
                 requires (default: none checked)
  --model NAME   a model to serve: ${EMBEDDED_MODEL} or a Hugging Face Qwen3 directory;
                 repeat for several (default: ${EMBEDDED_MODEL})
  --kernels      engine kernels (default fast)
  --data-dir DIR sessions, training runs, checkpoints and their saved states are kept in DIR/trainer
                 and survive a restart (default CONTINUALCODE_DATA_DIR or ./.data); one server per DIR
  --max-body-mib N  largest request body accepted, in MiB; larger ones get 413 (default ${DEFAULT_MAX_BODY_BYTES / MIB})
  --seq-gap-timeout-sec N  how long a model's queued requests wait for a missing earlier seq_id
                 before they fail, in seconds (default ${DEFAULT_SEQ_GAP_TIMEOUT_MS / 1000})`;

export interface TrainerServeOptions {
  port: number;
  host: string;
  apiKey?: string;
  models: Record<string, ModelSource>;
  kernels: "fast" | "js";
  /** What this server owns: its index, its lock and, under states/, the weights it saved. */
  trainerDir: string;
  statesDir: string;
  maxBodyBytes: number;
  seqGapTimeoutMs: number;
}

/** Flags → options; throws an Error whose message names the bad flag. */
export function parseTrainerServe(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): TrainerServeOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "api-key": { type: "string" },
      model: { type: "string", multiple: true },
      kernels: { type: "string" },
      "data-dir": { type: "string" },
      "max-body-mib": { type: "string" },
      "seq-gap-timeout-sec": { type: "string" },
    },
  });
  const port = Number(values.port ?? "8100");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: "${values.port}" is not a port number`);
  const kernels = values.kernels ?? "fast";
  if (kernels !== "fast" && kernels !== "js") throw new Error(`--kernels: "${kernels}" is not fast or js`);
  const builtIn = defaultCatalogue();
  const models: Record<string, ModelSource> = {};
  for (const name of values.model ?? [EMBEDDED_MODEL]) {
    if (Object.hasOwn(builtIn, name)) models[name] = builtIn[name];
    else if (isModelDirectory(name)) models[name] = { dir: path.resolve(name) };
    else
      throw new Error(
        `--model: ${name} is neither ${EMBEDDED_MODEL} nor a directory with config.json and .safetensors weights`,
      );
  }
  const apiKey = values["api-key"];
  // The key itself is never echoed: it is a secret even when it is a wrong one.
  if (apiKey !== undefined && !(apiKey.startsWith(SDK_KEY_PREFIX) && apiKey.length > SDK_KEY_PREFIX.length)) {
    throw new Error(
      `--api-key: the Tinker SDK only sends keys that start with "${SDK_KEY_PREFIX}" (it refuses any other before a request leaves), so no SDK client could use this one; choose one like ${SDK_KEY_PREFIX}<random letters>`,
    );
  }
  const dataDir = values["data-dir"] ?? env.CONTINUALCODE_DATA_DIR ?? FIELDS.dataDir.default;
  const maxBodyMib = Number(values["max-body-mib"] ?? DEFAULT_MAX_BODY_BYTES / MIB);
  if (!(Number.isFinite(maxBodyMib) && maxBodyMib > 0))
    throw new Error(`--max-body-mib: "${values["max-body-mib"]}" is not a size in MiB above 0`);
  const gapSec = Number(values["seq-gap-timeout-sec"] ?? DEFAULT_SEQ_GAP_TIMEOUT_MS / 1000);
  if (!(Number.isFinite(gapSec) && gapSec > 0))
    throw new Error(`--seq-gap-timeout-sec: "${values["seq-gap-timeout-sec"]}" is not a number of seconds above 0`);
  const trainerDir = path.resolve(dataDir, "trainer");
  return {
    port,
    host: values.host ?? "127.0.0.1",
    apiKey,
    models,
    kernels,
    trainerDir,
    statesDir: path.join(trainerDir, "states"),
    maxBodyBytes: Math.floor(maxBodyMib * MIB),
    seqGapTimeoutMs: Math.round(gapSec * 1000),
  };
}

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== "serve" || rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return verb === "serve" ? 0 : 2;
  }
  let options: TrainerServeOptions;
  try {
    options = parseTrainerServe(rest);
  } catch (error) {
    process.stderr.write(
      `continualcode trainer serve: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`,
    );
    return 2;
  }
  // 1. The directory is this process's: a second server would keep its own copy of the index.
  let unlock: () => void;
  let store: ServerStore;
  try {
    unlock = lockDataDir(options.trainerDir, TRAINER_LOCK_FILE).release;
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    const { pid, hostname, since } = error.holder;
    process.stderr.write(
      `continualcode trainer serve: ${options.trainerDir} is in use by trainer serve process ${pid} on ${hostname} (since ${since}); stop it first or give this one another --data-dir\n`,
    );
    return 1;
  }
  try {
    store = ServerStore.open(options.trainerDir);
  } catch (error) {
    unlock();
    process.stderr.write(`continualcode trainer serve: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  // 2. The engine and the API over it.
  const backend = createEmbeddedBackend({
    models: options.models,
    kernels: options.kernels,
    statesDir: options.statesDir,
    threads: operatorBackendConfig().engineThreads,
  });
  const server = createTinkerProtocolServer(backend, {
    apiKey: options.apiKey,
    maxBodyBytes: options.maxBodyBytes,
    store,
    seqGapTimeoutMs: options.seqGapTimeoutMs,
    logError: (message, error) => log.error(message, { error }),
    decoderFor: decoderForModels(options.models),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, resolve);
    });
  } catch (error) {
    process.stderr.write(
      `continualcode trainer serve: cannot listen on ${options.host}:${options.port}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await backend.close();
    unlock();
    return 1;
  }
  const served = new Set((await backend.listModels()).map((m) => m.modelName));
  for (const name of Object.keys(options.models)) {
    if (!served.has(name)) log.warn("model not installed; clients asking for it are refused", { model: name });
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  log.info("trainer serving the Tinker API", {
    url: `http://${host}:${port}`,
    models: Object.keys(options.models),
    apiKeyRequired: options.apiKey !== undefined,
    maxBodyBytes: options.maxBodyBytes,
    trainerDir: options.trainerDir,
    boot: store.boot,
    trainingRuns: store.trainingRuns().length,
    checkpoints: store.checkpoints().length,
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  log.info("trainer stopping", { signal });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await backend.close();
  unlock();
  return 0;
}
