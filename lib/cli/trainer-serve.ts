/**
 * `continualcode trainer serve`: the Tinker HTTP API over the embedded engine, so a Tinker client
 * (this app on another machine with --tinker-url, or the Python SDK's JSON surface) can train here.
 * Logs the URL once listening, and stops (server, then engines) on SIGINT or SIGTERM.
 */
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { log } from "@/lib/log";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { defaultCatalogue, EMBEDDED_MODEL, isModelDirectory, type ModelSource } from "@/lib/training/models";
import { createTinkerProtocolServer, DEFAULT_MAX_BODY_BYTES } from "@/lib/training/tinker/server";

const MIB = 1024 * 1024;

const USAGE = `usage: continualcode trainer serve [--port N] [--host H] [--api-key K] [--model NAME]... [--kernels fast|js] [--data-dir DIR] [--max-body-mib N]

  --port N       port to listen on (default 8100; 0 picks a free one)
  --host H       address to bind (default 127.0.0.1)
  --api-key K    the X-API-Key clients must send (default: none checked)
  --model NAME   a model to serve: ${EMBEDDED_MODEL} or a Hugging Face Qwen3 directory;
                 repeat for several (default: ${EMBEDDED_MODEL})
  --kernels      engine kernels (default fast)
  --data-dir DIR where saved states go, under DIR/states (default CONTINUALCODE_DATA_DIR or ./.data)
  --max-body-mib N  largest request body accepted, in MiB; larger ones get 413 (default ${DEFAULT_MAX_BODY_BYTES / MIB})`;

export interface TrainerServeOptions {
  port: number;
  host: string;
  apiKey?: string;
  models: Record<string, ModelSource>;
  kernels: "fast" | "js";
  statesDir: string;
  maxBodyBytes: number;
}

/** Flags → options; throws an Error whose message names the bad flag. */
export function parseTrainerServe(argv: string[], env: Record<string, string | undefined> = process.env): TrainerServeOptions {
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
    },
  });
  const port = Number(values.port ?? "8100");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: "${values.port}" is not a port number`);
  const kernels = values.kernels ?? "fast";
  if (kernels !== "fast" && kernels !== "js") throw new Error(`--kernels: "${kernels}" is not fast or js`);
  const builtIn = defaultCatalogue();
  const models: Record<string, ModelSource> = {};
  for (const name of values.model ?? [EMBEDDED_MODEL]) {
    if (Object.hasOwn(builtIn, name)) models[name] = builtIn[name];
    else if (isModelDirectory(name)) models[name] = { dir: path.resolve(name) };
    else throw new Error(`--model: ${name} is neither ${EMBEDDED_MODEL} nor a directory with config.json and .safetensors weights`);
  }
  const dataDir = values["data-dir"] ?? env.CONTINUALCODE_DATA_DIR ?? "./.data";
  const maxBodyMib = Number(values["max-body-mib"] ?? DEFAULT_MAX_BODY_BYTES / MIB);
  if (!(Number.isFinite(maxBodyMib) && maxBodyMib > 0)) throw new Error(`--max-body-mib: "${values["max-body-mib"]}" is not a size in MiB above 0`);
  return {
    port,
    host: values.host ?? "127.0.0.1",
    apiKey: values["api-key"],
    models,
    kernels,
    statesDir: path.resolve(dataDir, "states"),
    maxBodyBytes: Math.floor(maxBodyMib * MIB),
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
    process.stderr.write(`continualcode trainer serve: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const backend = createEmbeddedBackend({ models: options.models, kernels: options.kernels, statesDir: options.statesDir });
  const server = createTinkerProtocolServer(backend, { apiKey: options.apiKey, maxBodyBytes: options.maxBodyBytes });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, resolve);
    });
  } catch (error) {
    process.stderr.write(`continualcode trainer serve: cannot listen on ${options.host}:${options.port}: ${error instanceof Error ? error.message : String(error)}\n`);
    await backend.close();
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
    statesDir: options.statesDir,
  });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  log.info("trainer stopping", { signal });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await backend.close();
  return 0;
}
