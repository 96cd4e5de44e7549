/**
 * Picks the process's training backend from the configuration: a Tinker URL or API key selects
 * Tinker (the hosted service or any server speaking its API), anything else the embedded engine.
 * One backend is kept per process (on globalThis, so Next.js module reloads share it); code above
 * this module sees only the TrainingBackend contract. describeBackend() is the health probe.
 */
import path from "node:path";
import { type Config, resolveConfig } from "../config";
import { createEmbeddedBackend, type EmbeddedBackend } from "./embedded";
import { createTinkerBackend, type TinkerBackend, tinkerOptionsFromEnv } from "./tinker/client";
import { DEFAULT_BASE_URL } from "./tinker/http";

export type { EmbeddedBackend } from "./embedded";
export { createEmbeddedBackend, EMBEDDED_CAPABILITIES } from "./embedded";
export { EMBEDDED_MODEL } from "./models";
export type * from "./types";
export { canScoreDistributions, hasTeacherOperations } from "./types";

type BackendConfig = Pick<Config, "tinkerUrl" | "tinkerApiKey" | "dataDir" | "model">;
type AnyBackend = EmbeddedBackend | TinkerBackend;

interface Cached {
  signature: string;
  backend: AnyBackend;
}

const CACHE_KEY = Symbol.for("continualcode.trainingBackend");
const cacheHolder = globalThis as { [CACHE_KEY]?: Cached };

function signature(config: BackendConfig): string {
  const tinker = config.tinkerUrl !== undefined || config.tinkerApiKey !== undefined;
  return tinker
    ? `tinker ${config.tinkerUrl ?? DEFAULT_BASE_URL} ${config.tinkerApiKey ?? ""}`
    : `embedded ${path.resolve(config.dataDir)}`;
}

/** Flags (passed through the environment) + environment + defaults; no user's settings. */
function operatorConfig(): BackendConfig {
  return resolveConfig({ env: process.env }).config;
}

/** A new backend for `config` (callers normally want the cached getTrainingBackend). */
export function createTrainingBackend(
  config: BackendConfig,
  env: Record<string, string | undefined> = process.env,
): AnyBackend {
  if (config.tinkerUrl !== undefined || config.tinkerApiKey !== undefined) {
    return createTinkerBackend({
      ...tinkerOptionsFromEnv(env),
      apiKey: config.tinkerApiKey ?? "",
      ...(config.tinkerUrl !== undefined ? { baseUrl: config.tinkerUrl } : {}),
    });
  }
  return createEmbeddedBackend({ statesDir: path.resolve(config.dataDir, "states") });
}

/** The process's backend; a changed Tinker URL, key or data directory replaces (and closes) it. */
export function getTrainingBackend(config: BackendConfig = operatorConfig()): AnyBackend {
  const wanted = signature(config);
  const cached = cacheHolder[CACHE_KEY];
  if (cached?.signature === wanted) return cached.backend;
  const backend = createTrainingBackend(config);
  cacheHolder[CACHE_KEY] = { signature: wanted, backend };
  if (cached) void cached.backend.close().catch(() => undefined);
  return backend;
}

/** Closes the process's backend, if one was made (shutdown, tests). */
export async function closeTrainingBackend(): Promise<void> {
  const cached = cacheHolder[CACHE_KEY];
  delete cacheHolder[CACHE_KEY];
  await cached?.backend.close();
}

export interface BackendHealth {
  kind: "embedded" | "tinker";
  reachable: boolean;
  detail: string;
}

/**
 * Is training possible right now? Embedded: the configured model's weights exist and, once
 * started, its engine answers. Tinker: `GET /api/v1/healthz` answers ok. Never throws; gives up
 * after `timeoutMs`.
 */
export async function describeBackend(given?: BackendConfig, timeoutMs = 2_000): Promise<BackendHealth> {
  let config: BackendConfig | undefined = given;
  let backend: AnyBackend;
  try {
    config ??= operatorConfig();
    backend = getTrainingBackend(config);
  } catch (error) {
    const tinker = config
      ? config.tinkerUrl !== undefined || config.tinkerApiKey !== undefined
      : Object.keys(process.env).some((k) => k.includes("TINKER") && process.env[k]);
    return {
      kind: tinker ? "tinker" : "embedded",
      reachable: false,
      detail: error instanceof Error ? error.message : String(error),
    };
  }
  if (backend.kind === "embedded") return { kind: "embedded", ...(await backend.probe(config.model, timeoutMs)) };
  const url = `${(config.tinkerUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "")}/api/v1/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    const ok = res.ok && body?.status === "ok";
    return { kind: "tinker", reachable: ok, detail: ok ? `${url} ok` : `${url} answered ${res.status}` };
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : error instanceof Error
          ? error.message
          : String(error);
    return { kind: "tinker", reachable: false, detail: `${url}: ${reason}` };
  }
}
