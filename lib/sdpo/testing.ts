/**
 * Test support: the embedded backend over the reference fixture model (vocab 384, raw token ids),
 * with the gradient control the non-finite guard uses (discard and norm of accumulated gradients)
 * provided from the engine, and a frozen-copy helper to compare weights bit for bit.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineClient } from "@/lib/engine/client";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import type { EmbeddedTrainingClient } from "@/lib/training/embedded-clients";

import { REFERENCE_FIXTURE_DIR, REFERENCE_FIXTURE_VOCAB } from "@/lib/engine/reference-fixture";

export const FIXTURE_MODEL = REFERENCE_FIXTURE_DIR;
export const FIXTURE_VOCAB = REFERENCE_FIXTURE_VOCAB;

export interface FixtureBackend {
  backend: EmbeddedBackend;
  engine: () => EngineClient;
  statesDir: string;
  trainer(options?: { rank?: number; seed?: number; fromState?: string }): Promise<EmbeddedTrainingClient>;
  /** The adapter's tensors, copied. */
  weights(trainer: EmbeddedTrainingClient): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

export async function startFixtureBackend(
  statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "sdpo-states-")),
): Promise<FixtureBackend> {
  let engine: EngineClient | null = null;
  const backend = createEmbeddedBackend({
    statesDir,
    models: { [FIXTURE_MODEL]: { dir: FIXTURE_MODEL } },
    engine: async (data) => (engine = await EngineClient.start(data)),
  });
  const getEngine = () => {
    if (!engine) throw new Error("the engine has not started");
    return engine;
  };
  return {
    backend,
    engine: getEngine,
    statesDir,
    async trainer(options = {}) {
      const t = await backend.createTrainingClient({
        baseModel: FIXTURE_MODEL,
        rank: options.rank ?? 4,
        seed: options.seed ?? 1,
        fromState: options.fromState,
      });
      return t;
    },
    weights: (trainer) => getEngine().adapterTensors(trainer.clientId, "value"),
    close: () => backend.close(),
  };
}
