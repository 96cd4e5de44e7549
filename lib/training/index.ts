/**
 * Picks a training backend from the configuration: a Tinker URL or API key selects Tinker (the
 * hosted service or any server speaking its API), anything else the embedded engine. The process
 * makes one at start-up (lib/runtime.ts) and passes it down; code above this module sees only the
 * TrainingBackend contract. describeBackend() is the health probe.
 */
import path from "node:path";
import { type Config, resolveConfig } from "../config";
import { createEmbeddedBackend, type EmbeddedBackend } from "./embedded";
import { createTinkerBackend, type TinkerBackend, tinkerOptionsFromEnv } from "./tinker/client";
import { DEFAULT_BASE_URL } from "./tinker/http";
import type { BackendKind } from "./types";

export type { EmbeddedBackend } from "./embedded";
export { createEmbeddedBackend, EMBEDDED_CAPABILITIES } from "./embedded";
export { EMBEDDED_MODEL } from "./models";
export type * from "./types";
export { canScoreDistributions, hasTeacherOperations } from "./types";

type BackendConfig = Pick<Config, "tinkerUrl" | "tinkerApiKey" | "dataDir" | "model"> &
  Partial<Pick<Config, "engineThreads">>;
type AnyBackend = EmbeddedBackend | TinkerBackend;

export type { BackendConfig, AnyBackend };

/** Flags (passed through the environment) + environment + defaults; no user's settings. */
export function operatorBackendConfig(env: Record<string, string | undefined> = process.env): BackendConfig {
  return resolveConfig({ env }).config;
}

/** A new backend for `config`; the caller owns it and closes it. */
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
  return createEmbeddedBackend({ statesDir: path.resolve(config.dataDir, "states"), threads: config.engineThreads });
}

export interface BackendHealth {
  kind: BackendKind;
  reachable: boolean;
  detail: string;
}

/**
 * Is training possible right now? Embedded: the configured model's weights exist and, once
 * started, its engine answers. Tinker: `GET /api/v1/healthz` answers ok. Never throws; gives up
 * after `timeoutMs`. Probes `open` (the process's backend, made from `given`) when passed, else a
 * backend made for the probe and closed after it.
 */
export async function describeBackend(
  given?: BackendConfig,
  timeoutMs = 2_000,
  open?: AnyBackend,
): Promise<BackendHealth> {
  let config: BackendConfig | undefined = given;
  let backend: AnyBackend;
  try {
    config ??= operatorBackendConfig();
    backend = open ?? createTrainingBackend(config);
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
  try {
    return await probe(backend, config, timeoutMs);
  } finally {
    if (!open) await backend.close().catch(() => undefined);
  }
}

async function probe(backend: AnyBackend, config: BackendConfig, timeoutMs: number): Promise<BackendHealth> {
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
