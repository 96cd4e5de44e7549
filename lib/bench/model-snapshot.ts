/**
 * Benchmarks read the embedded model from a private copy of its directory: the bundled model may
 * be rewritten while a run is in progress (a pretraining run saving checkpoints), and a run must
 * measure one set of weights from start to end. The copy records which checkpoint it holds (the
 * last optimizer step in training-log.jsonl, the weights' modification time).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface ModelSnapshot {
  dir: string;
  source: string;
  /** The last step line of training-log.jsonl when the copy was taken (null: no log). */
  step: number | null;
  /** Whether the log had its end record (the run finished). */
  final: boolean;
  weightsModified: string;
}

export function lastLogStep(logText: string): { step: number | null; final: boolean } {
  let step: number | null = null;
  let final = false;
  for (const line of logText.split("\n")) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { step?: unknown; type?: unknown; event?: unknown };
      if (typeof rec.step === "number") step = rec.step;
      if (rec.type === "end" || rec.event === "end") final = true;
    } catch {
      // A line being written while we read: ignore it.
    }
  }
  return { step, final };
}

const FILES = ["config.json", "model.safetensors", "vocab.json", "training-log.jsonl"];

/** Copies the model directory's files into a fresh temporary directory; `remove()` when done. */
export function snapshotModel(source: string): ModelSnapshot & { remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-model-"));
  for (const f of FILES)
    if (fs.existsSync(path.join(source, f))) fs.copyFileSync(path.join(source, f), path.join(dir, f));
  const log = fs.existsSync(path.join(dir, "training-log.jsonl"))
    ? fs.readFileSync(path.join(dir, "training-log.jsonl"), "utf8")
    : "";
  const weights = path.join(dir, "model.safetensors");
  return {
    dir,
    source,
    ...lastLogStep(log),
    weightsModified: fs.existsSync(weights)
      ? fs.statSync(path.join(source, "model.safetensors")).mtime.toISOString()
      : "",
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
