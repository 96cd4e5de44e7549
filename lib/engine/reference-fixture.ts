/**
 * The reference fixture the parity and training tests run on: a tiny random Qwen3 and the outputs
 * Hugging Face transformers + PEFT computed for it, kept in the repository (`fixtures/`) so a fresh
 * clone tests with nothing beside it. `QWEN3_FIXTURE_DIR` points the same tests at another
 * directory of the same layout (fixtures/README.md describes it).
 */
import path from "node:path";
import { projectRoot } from "../paths";

export const REFERENCE_FIXTURE_DIR = path.resolve(
  projectRoot(),
  process.env.QWEN3_FIXTURE_DIR ?? path.join("fixtures", "qwen3-tiny-a"),
);

/** The fixture's vocabulary size: its token ids are raw ids below this. */
export const REFERENCE_FIXTURE_VOCAB = 384;
