/**
 * `npm run model:average -- --out DIR CHECKPOINT_DIR...` writes the uniform mean of several
 * checkpoints of one model (lib/engine/average-weights.ts) as a model directory: the mean's
 * model.safetensors (float32), the checkpoints' config.json and vocab.json (which must agree),
 * and the last checkpoint's training-log.jsonl with a record naming what was averaged, so a later
 * `model:pretrain --init DIR` continues from the last checkpoint's step. Prints that record.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { lastLogStep } from "@/lib/bench/model-snapshot";
import { averageWeights } from "@/lib/engine/average-weights";
import { writeSafetensors } from "@/lib/engine/safetensors";

const { values, positionals } = parseArgs({ options: { out: { type: "string" } }, allowPositionals: true });
const out = values.out;
if (out === undefined || positionals.length === 0)
  throw new Error("usage: npm run model:average -- --out DIR CHECKPOINT_DIR [CHECKPOINT_DIR ...]");
if (positionals.some((dir) => path.resolve(dir) === path.resolve(out)))
  throw new Error(`--out ${out} is one of the checkpoints: write the mean elsewhere`);

const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), "utf8");
// The stored precision differs between checkpoints (float32 mid-run, bfloat16 at a run's end).
const architecture = (dir: string) => {
  const { torch_dtype: _t, dtype: _d, ...rest } = JSON.parse(read(dir, "config.json")) as Record<string, unknown>;
  return rest;
};
const [first, ...rest] = positionals;
const model = architecture(first!);
const vocab = read(first!, "vocab.json");
for (const dir of rest) {
  if (JSON.stringify(architecture(dir)) !== JSON.stringify(model))
    throw new Error(`${dir}/config.json describes another model than ${first}/config.json`);
  if (read(dir, "vocab.json") !== vocab) throw new Error(`${dir}/vocab.json differs from ${first}/vocab.json`);
}

const mean = averageWeights(positionals.map((dir) => path.join(dir, "model.safetensors")));
fs.mkdirSync(out, { recursive: true });
writeSafetensors(path.join(out, "model.safetensors"), mean);
fs.writeFileSync(
  path.join(out, "config.json"),
  JSON.stringify({ ...model, torch_dtype: "float32", dtype: "float32" }, null, 2),
);
fs.writeFileSync(path.join(out, "vocab.json"), vocab);

const last = positionals.at(-1)!;
const logOf = (dir: string) =>
  fs.existsSync(path.join(dir, "training-log.jsonl")) ? read(dir, "training-log.jsonl") : "";
const record = {
  event: "average",
  checkpoints: positionals.map((dir) => ({ dir, step: lastLogStep(logOf(dir)).step })),
};
const log = logOf(last);
fs.writeFileSync(
  path.join(out, "training-log.jsonl"),
  `${log}${log === "" || log.endsWith("\n") ? "" : "\n"}${JSON.stringify(record)}\n`,
);
process.stdout.write(`${JSON.stringify(record)}\n`);
