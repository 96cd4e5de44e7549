/**
 * `npm run model:pretrain -- [--data DIR] [--out DIR] [--seed N] [--lr X] [--steps N] [--max-minutes N] [--init DIR] ...`
 * pretrains the embedded model with the engine's full-parameter training: a fresh Qwen3 over the
 * curriculum's trimmed vocabulary (or, with --init, the weights of an earlier run, whose log this
 * run continues), cross-entropy on the assistant tokens, AdamW with warmup and cosine decay, a
 * few episodes per optimizer step. The tokens a step's episodes all start with (the system prompt
 * and tools block) run forward once per step and are held fixed behind each episode's own tokens
 * (`--shared-prefix off`: every episode whole, the exact gradient). `--context-weight W` also puts
 * a loss of W per token on the task and tool results after that block (validation loss stays the
 * assistant tokens' alone, comparable across runs). Every run with the same flags
 * starts from the same weights and sees the episodes in the same order (the seed fixes both); the
 * schedule ends at whichever budget runs out first, --steps or --max-minutes. One JSON line per
 * step goes to stdout and to training-log.jsonl beside the weights; the model directory
 * (config.json, model.safetensors, vocab.json) is rewritten every few minutes and at the end, so
 * an interrupted run still leaves a usable model; SIGTERM to the script's process ends the run
 * cleanly after the current step (a run continued from one killed outright counts on from its
 * last step record).
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Engine, sharedPrefixLength, type ModelConfig, type SavedDtype } from "@/lib/engine";
import { createKernels } from "@/lib/engine/kernels";
import { Rng } from "@/lib/curriculum/prng";
import { TrimmedVocab } from "@/lib/chat/trimmed-vocab";
import {
  commonPrefixLength,
  firstPrompt,
  learningRate,
  shuffle,
  toDatums,
  type ContextLoss,
  type Episode,
} from "./pretrain-schedule";
import { projectPath } from "@/lib/paths";

const { values } = parseArgs({
  options: {
    data: { type: "string", default: projectPath(".data", "curriculum") },
    out: { type: "string", default: projectPath("models", "qwen3-tiny-coder") },
    seed: { type: "string", default: "1" },
    lr: { type: "string", default: "5e-3" },
    "min-lr-ratio": { type: "string", default: "0.1" },
    warmup: { type: "string", default: "30" },
    batch: { type: "string", default: "4" },
    steps: { type: "string", default: "100000" },
    "max-minutes": { type: "string", default: "60" },
    "checkpoint-minutes": { type: "string", default: "5" },
    "weight-decay": { type: "string", default: "0.01" },
    "grad-clip": { type: "string", default: "1" },
    "val-fraction": { type: "string", default: "0.02" },
    "val-episodes": { type: "string", default: "6" },
    "val-every": { type: "string", default: "25" },
    "max-len": { type: "string", default: "4096" },
    hidden: { type: "string", default: "128" },
    layers: { type: "string", default: "4" },
    heads: { type: "string", default: "4" },
    "head-dim": { type: "string", default: "32" },
    "kv-heads": { type: "string", default: "2" },
    intermediate: { type: "string", default: "384" },
    "rope-theta": { type: "string", default: "10000" },
    "max-positions": { type: "string", default: "4096" },
    "final-dtype": { type: "string", default: "auto" },
    // Unset: one per core (the kernels give the same bits on any number).
    threads: { type: "string" },
    init: { type: "string" },
    "shared-prefix": { type: "string", default: "on" },
    "context-weight": { type: "string", default: "0" },
  },
});
const num = (key: keyof typeof values): number => {
  const v = Number(values[key]);
  if (!Number.isFinite(v)) throw new Error(`--${key} must be a number, got ${String(values[key])}`);
  return v;
};

/** Compact-id episodes, shuffled with the seed, split into training and held-out episodes. */
function loadEpisodes(
  dataDir: string,
  vocab: TrimmedVocab,
  seed: number,
  maxLen: number,
): { train: Episode[]; val: Episode[] } {
  const lines = fs
    .readFileSync(path.join(dataDir, "train.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.length > 0);
  const all: Episode[] = [];
  for (const line of lines) {
    const r = JSON.parse(line) as Episode;
    if (r.tokens.length > maxLen || r.tokens.length < 2) continue;
    all.push({ tokens: vocab.toCompact(r.tokens), weights: r.weights });
  }
  shuffle(all, new Rng(seed));
  const nVal = Math.max(1, Math.round(all.length * num("val-fraction")));
  return { val: all.slice(0, nVal), train: all.slice(nVal) };
}

/** Writes the model directory through a temporary one, so a reader never sees half a checkpoint. */
function saveCheckpoint(engine: Engine, outDir: string, dtype: SavedDtype, vocabFile: string): void {
  const tmp = `${outDir}.saving`;
  fs.rmSync(tmp, { recursive: true, force: true });
  engine.saveBaseModel(tmp, dtype);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of ["model.safetensors", "config.json"]) fs.renameSync(path.join(tmp, f), path.join(outDir, f));
  if (path.resolve(vocabFile) !== path.join(outDir, "vocab.json"))
    fs.copyFileSync(vocabFile, path.join(outDir, "vocab.json"));
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** True when a bfloat16 copy decodes the held-out prompts greedily to the same tokens as float32. */
function bfloat16KeepsGreedy(
  engine: Engine,
  kernels: Parameters<typeof Engine.fromDirectory>[1],
  val: Episode[],
  outDir: string,
): { same: boolean; checked: number } {
  const dir = `${outDir}.bf16-check`;
  fs.rmSync(dir, { recursive: true, force: true });
  engine.saveBaseModel(dir, "bfloat16");
  const bf16 = Engine.fromDirectory(dir, kernels);
  let checked = 0;
  try {
    for (const e of val.slice(0, 3)) {
      const { prompt, answer } = firstPrompt(e);
      if (prompt.length === 0) continue;
      const params = { maxTokens: Math.min(48, answer.length), temperature: 0, seed: 0 };
      const a = engine.sample(null, prompt, params).sequences[0]!.tokens;
      const b = bf16.sample(null, prompt, params).sequences[0]!.tokens;
      checked++;
      if (a.join(",") !== b.join(",")) return { same: false, checked };
    }
    return { same: true, checked };
  } finally {
    bf16.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const seed = num("seed");
if (values["shared-prefix"] !== "on" && values["shared-prefix"] !== "off")
  throw new Error(`--shared-prefix is on or off, got ${values["shared-prefix"]}`);
const sharePrefix = values["shared-prefix"] === "on";
const outDir = path.resolve(values.out!);
const initDir = values.init === undefined ? undefined : path.resolve(values.init);
// A continued run keeps its model's vocabulary: the curriculum's tokens must all be in it (toCompact checks).
const vocabFile = path.join(initDir ?? path.resolve(values.data!), "vocab.json");
const vocab = await TrimmedVocab.load(vocabFile);
const { train, val } = loadEpisodes(path.resolve(values.data!), vocab, seed, num("max-len"));
if (train.length === 0) throw new Error(`no training episodes of at most --max-len ${num("max-len")} tokens`);
const config: ModelConfig = {
  vocabSize: vocab.size,
  hiddenSize: num("hidden"),
  intermediateSize: num("intermediate"),
  numLayers: num("layers"),
  numHeads: num("heads"),
  numKvHeads: num("kv-heads"),
  headDim: num("head-dim"),
  rmsNormEps: 1e-6,
  ropeTheta: num("rope-theta"),
  maxPositionEmbeddings: num("max-positions"),
  tieWordEmbeddings: true,
};
const threads = values.threads === undefined ? undefined : num("threads");
if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
  throw new Error(`--threads must be a whole number of at least 1, got ${values.threads}`);
const kernels = await createKernels({ threads });
const engine =
  initDir === undefined
    ? Engine.fromConfig(config, kernels, { seed, initializerRange: 0.02 })
    : continuedEngine(initDir);
engine.createFullTraining();
const params = Object.values(engine.baseTensors()).reduce((s, t) => s + t.length, 0);

/** An earlier run's weights, whose shape the flags must describe. */
function continuedEngine(dir: string): Engine {
  const loaded = Engine.fromDirectory(dir, kernels);
  for (const key of [
    "vocabSize",
    "hiddenSize",
    "intermediateSize",
    "numLayers",
    "numHeads",
    "numKvHeads",
    "headDim",
  ] as const) {
    if (loaded.config[key] !== config[key])
      throw new Error(`--init ${dir}: ${key} is ${loaded.config[key]}, the flags say ${config[key]}`);
  }
  return loaded;
}

// The other tokens' loss starts after the system prompt and tools block every episode shares.
const context: ContextLoss | null =
  num("context-weight") > 0 ? { from: commonPrefixLength(train), weight: num("context-weight") } : null;

fs.mkdirSync(outDir, { recursive: true });
const logFile = path.join(outDir, "training-log.jsonl");
// A continued run extends its predecessor's curve: same file, steps and tokens counted on from its end.
const previous = initDir === undefined ? undefined : lastEnd(path.join(initDir, "training-log.jsonl"));
const stepOffset = previous?.step ?? 0;
const tokenOffset = previous?.tokens ?? 0;
if (initDir === undefined) fs.writeFileSync(logFile, "");
else if (path.join(initDir, "training-log.jsonl") !== logFile)
  fs.copyFileSync(path.join(initDir, "training-log.jsonl"), logFile);

/**
 * Where the predecessor's curve ends: its end record, or, for a run stopped by a kill after its
 * last checkpoint (no end record after its last steps), its last step record, which is the
 * checkpoint's step when the kill came right after the checkpoint was written.
 */
function lastEnd(file: string): { step: number; tokens: number; interrupted: boolean } | undefined {
  if (!fs.existsSync(file)) return undefined;
  const records = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { event?: string; step?: number; tokens?: number });
  const last = records.findLast((r) => r.step !== undefined);
  if (!last) return undefined;
  return { step: last.step!, tokens: last.tokens ?? 0, interrupted: last.event !== "end" };
}
const log = (record: Record<string, unknown>): void => {
  const line = JSON.stringify(record);
  process.stdout.write(`${line}\n`);
  fs.appendFileSync(logFile, `${line}\n`);
};
log({
  event: "start",
  seed,
  parameters: params,
  config,
  trainEpisodes: train.length,
  valEpisodes: val.length,
  lr: num("lr"),
  minLrRatio: num("min-lr-ratio"),
  warmup: num("warmup"),
  batch: num("batch"),
  weightDecay: num("weight-decay"),
  gradClip: num("grad-clip"),
  sharedPrefix: sharePrefix,
  contextLoss: context,
  steps: num("steps"),
  maxMinutes: num("max-minutes"),
  startedAt: new Date().toISOString(),
  ...(initDir === undefined
    ? {}
    : {
        init: path.relative(process.cwd(), initDir) || ".",
        fromStep: stepOffset,
        fromTokens: tokenOffset,
        ...(previous?.interrupted ? { fromInterrupted: true } : {}),
      }),
});

const valSet = toDatums(val.slice(0, num("val-episodes")));
const valLoss = (): number => engine.forward(null, valSet.datums, "cross_entropy").metrics["loss:sum"]!;

const started = Date.now();
const minutes = (): number => (Date.now() - started) / 60_000;
const batchSize = num("batch");
const maxSteps = num("steps");
const maxMinutes = num("max-minutes");
let lastCheckpoint = Date.now();
let seen = 0;
let cursor = 0;
let epoch = 0;
let step = 0;
let lastLoss = Number.NaN;
let lastVal: number | undefined;
// SIGTERM or SIGINT to this process ends the run as its budget would: after the current step,
// with the final validation loss, the final save and the end record. Every delivery only sets
// the flag (tsx relays a signal it gets to this process, so one may arrive twice).
let stopRequested = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => (stopRequested = true));
while (step < maxSteps && minutes() < maxMinutes && !stopRequested) {
  const batch: Episode[] = [];
  while (batch.length < batchSize) {
    if (cursor === train.length) {
      cursor = 0;
      epoch++;
      shuffle(train, new Rng(seed + epoch));
    }
    batch.push(train[cursor++]!);
  }
  const { datums, tokens } = toDatums(batch, context);
  const progress = Math.max(step / maxSteps, minutes() / maxMinutes);
  const lr = learningRate(step, progress, num("lr"), num("warmup"), num("min-lr-ratio"));
  const shared = sharePrefix ? sharedPrefixLength(datums) : 0;
  const prefix = shared > 0 ? engine.prefillShared(null, datums[0]!.modelInput.slice(0, shared)) : null;
  const loss = engine.fullForwardBackward(datums, "cross_entropy", {}, prefix).metrics["loss:sum"]!;
  const optim = engine.fullOptimStep({
    learningRate: lr,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: num("weight-decay"),
    gradClipNorm: num("grad-clip"),
  });
  step++;
  seen += tokens;
  lastLoss = loss;
  const record: Record<string, unknown> = {
    step: stepOffset + step,
    tokens: tokenOffset + seen,
    loss: round(loss),
    lr: Number(lr.toPrecision(4)),
    grad_norm: round(optim.metrics["optim/grad_norm"]!),
    epoch,
    shared_prefix: shared,
  };
  if (step % num("val-every") === 0) record.val_loss = lastVal = round(valLoss());
  record.seconds = Math.round((Date.now() - started) / 1000);
  log(record);
  if (Date.now() - lastCheckpoint > num("checkpoint-minutes") * 60_000) {
    saveCheckpoint(engine, outDir, "float32", vocabFile);
    lastCheckpoint = Date.now();
  }
  // The steps are synchronous: let a pending signal's handler run between them.
  await new Promise((resolve) => setImmediate(resolve));
}

// Final: a last validation loss, then bfloat16 where it decodes exactly as float32 does.
const finalVal = round(valLoss());
let dtype: SavedDtype = "float32";
let greedy = { same: false, checked: 0 };
if (values["final-dtype"] === "bfloat16" || values["final-dtype"] === "float32") dtype = values["final-dtype"];
else {
  greedy = bfloat16KeepsGreedy(engine, kernels, val, outDir);
  dtype = greedy.same && greedy.checked > 0 ? "bfloat16" : "float32";
}
saveCheckpoint(engine, outDir, dtype, vocabFile);
log({
  event: "end",
  ...(stopRequested ? { stoppedBy: "signal" } : {}),
  step: stepOffset + step,
  tokens: tokenOffset + seen,
  loss: round(lastLoss),
  val_loss: finalVal,
  last_logged_val_loss: lastVal,
  dtype,
  bf16GreedyChecked: greedy.checked,
  seconds: Math.round((Date.now() - started) / 1000),
});
engine.dispose();
kernels.dispose();

function round(x: number): number {
  return Number(x.toFixed(4));
}
