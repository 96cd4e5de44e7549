/**
 * `npm run model:curriculum -- [--out DIR] [--seed N] [--episodes N] [--max-tokens N] [--concurrency N]
 *   [--open-names SHARE] [--workspace-pool N] [--vocab FILE] [--family-weights FAMILY=W,…]`
 * (or `-- --scenarios bench/scenarios/default.json` to rewrite the benchmark's scenarios):
 * writes the embedded model's training set (train.jsonl: tokens, weights, family, habit and
 * mistake records per episode), its trimmed vocabulary (vocab.json) and stats.json into DIR
 * (default .data/curriculum/), and prints the stats JSON on stdout. Episodes longer than
 * --max-tokens (default 2,304) are left out: the system prompt and tools block alone take about
 * 1,060 tokens, and a JavaScript fix-the-test episode with node's TAP report runs to about 2,200.
 * --open-names gives that share of workspaces open names (copying is the only way to get them
 * right); --workspace-pool sets how many distinct workspaces the episodes share (default one per
 * ten episodes); --vocab FILE keeps an existing model's vocabulary (text outside it is spelled in
 * byte tokens, exactly as the app's renderer does for that model), so `model:pretrain --init`
 * can continue that model on the new episodes; --family-weights replaces the named families'
 * weights (lib/curriculum/episodes.ts), e.g. `fix_failing_test=6` for a run on the example's task.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { createQwen3Renderer } from "@/lib/chat/qwen3";
import { loadQwen3Tokenizer } from "@/lib/chat/tokenizer";
import { TrimmedVocab, loadQwen3ByteLevel, withTrimmedVocab } from "@/lib/chat/trimmed-vocab";
import { generateCurriculum, recordsToJsonl } from "@/lib/curriculum/dataset";
import { parseFamilyWeights } from "@/lib/curriculum/episodes";
import { buildDefaultScenarios } from "@/lib/curriculum/held-out";
import { projectPath } from "@/lib/paths";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: projectPath(".data", "curriculum") },
    seed: { type: "string", default: "1" },
    episodes: { type: "string", default: "5000" },
    "max-tokens": { type: "string", default: "2304" },
    concurrency: { type: "string", default: "6" },
    scenarios: { type: "string" },
    "open-names": { type: "string", default: "0" },
    "workspace-pool": { type: "string" },
    vocab: { type: "string" },
    "family-weights": { type: "string" },
  },
});

// `--scenarios FILE`: (re)write the benchmark's default scenarios instead of the training set.
if (values.scenarios) {
  await writeFile(values.scenarios, `${JSON.stringify(buildDefaultScenarios(), null, 2)}\n`);
  process.stdout.write(`wrote ${values.scenarios}\n`);
  process.exit(0);
}

const started = Date.now();
const fixedVocab = values.vocab ? await TrimmedVocab.load(values.vocab) : undefined;
const qwen3 = createQwen3Renderer(await loadQwen3Tokenizer());
const renderer = fixedVocab ? withTrimmedVocab(qwen3, fixedVocab) : qwen3;
const { records, stats, vocab } = await generateCurriculum({
  seed: Number(values.seed),
  episodes: Number(values.episodes),
  maxTokens: Number(values["max-tokens"]),
  concurrency: Number(values.concurrency),
  openNames: Number(values["open-names"]),
  ...(values["workspace-pool"] ? { workspacePool: Number(values["workspace-pool"]) } : {}),
  ...(fixedVocab ? { vocab: fixedVocab } : {}),
  ...(values["family-weights"] ? { familyWeights: parseFamilyWeights(values["family-weights"]) } : {}),
  renderer,
  byteLevel: await loadQwen3ByteLevel(),
  onProgress: (done, total) => {
    if (done % 500 === 0 || done === total) process.stderr.write(`curriculum: ${done}/${total} episodes\n`);
  },
});
const out = path.resolve(values.out);
await mkdir(out, { recursive: true });
await writeFile(path.join(out, "train.jsonl"), recordsToJsonl(records));
await vocab.save(path.join(out, "vocab.json"));
const report = { seed: Number(values.seed), out, seconds: Math.round((Date.now() - started) / 1000), ...stats };
await writeFile(path.join(out, "stats.json"), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
