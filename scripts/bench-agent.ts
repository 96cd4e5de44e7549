/**
 * `npm run bench:agent [-- --runs 10 --held-out 40 --temperature 0.7 --seed 1 --model-dir DIR]`
 * measures whether the embedded model does the small jobs its curriculum covers, with no
 * corrections and every call approved:
 * - example: the example project's "Fix the failing test." through the real Agent (in-memory
 *   PGlite, sandboxed tools), `runs` times with seeded sampling; solved = the tests pass at the
 *   end and the final answer says so;
 * - heldOut: curriculum tasks on held-out workspaces (every family in turn), each run by the model
 *   to its answer with the real tools: the first call exactly the planned one, the share of
 *   replies that are valid, and final answers that claim a change no call made.
 * Prints one JSON object (rates in [0, 1]) with seconds and the load average.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Agent } from "@/lib/agent/agent";
import { share } from "@/lib/bench/agent";
import { runExample, seededBackend, type ExampleRun } from "@/lib/bench/agent-example";
import { runHeldOutEpisode, type HeldOutRun } from "@/lib/bench/agent-held-out";
import { snapshotModel } from "@/lib/bench/model-snapshot";
import { getRenderer } from "@/lib/chat";
import { HELD_OUT_SEED_BASE, planEpisode } from "@/lib/curriculum/episodes";
import { FAMILIES } from "@/lib/curriculum/families";
import { DEFAULT_HABIT_CONFIG, HabitSchedule } from "@/lib/curriculum/habits";
import { FAMILY_IDS } from "@/lib/curriculum/plan";
import { Rng } from "@/lib/curriculum/prng";
import { generateWorkspace } from "@/lib/curriculum/workspace";
import { createDb } from "@/lib/db/client";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createUser } from "@/lib/db/queries/users";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    "held-out": { type: "string", default: "40" },
    temperature: { type: "string", default: "0.7" },
    seed: { type: "string", default: "1" },
    "max-tokens": { type: "string", default: "384" },
    "max-replies": { type: "string", default: "10" },
    "model-dir": { type: "string", default: projectPath("models", "qwen3-tiny-coder") },
    out: { type: "string" },
  },
});
const log = (line: string) => process.stderr.write(`[bench:agent ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const started = performance.now();
const seed = Number(values.seed);
const temperature = Number(values.temperature);
const maxTokens = Number(values["max-tokens"]);
const maxReplies = Number(values["max-replies"]);

const snapshot = snapshotModel(values["model-dir"]);
log(`model ${snapshot.source} (log step ${snapshot.step}${snapshot.final ? ", final" : ""})`);
const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-agent-states-"));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-agent-ws-"));
const backend = createEmbeddedBackend({ models: { [EMBEDDED_MODEL]: { dir: snapshot.dir } }, statesDir });

// 1. The example, through the real agent.
let drawn = 0;
let runSeed = 0;
const handle = await createDb({ dataDir: "memory" });
const agent = new Agent({ db: handle.db, backend: seededBackend(backend, () => runSeed * 1000 + drawn++) });
const example: ExampleRun[] = [];
const exampleStarted = performance.now();
try {
  const user = await createUser({ db: handle.db, name: "bench", email: "bench@example.test" });
  await saveUserSettings({
    db: handle.db,
    userId: user.id,
    settings: { model: EMBEDDED_MODEL, temperature, maxTokens, training: false },
  });
  for (let i = 0; i < Number(values.runs); i++) {
    runSeed = seed * 100 + i;
    drawn = 0;
    const run = await runExample({
      agent,
      db: handle.db,
      ownerId: user.id,
      dir: path.join(workDir, `example-${i}`),
      name: `example-${i}`,
      maxDecisions: maxReplies,
    });
    log(
      `example ${i + 1}: ${run.solved ? "solved" : "not solved"} (${run.end}; tests ${run.testsPass ? "pass" : "fail"}) ${run.calls.join(" | ")} ⇒ ${JSON.stringify(run.answer)}`,
    );
    example.push(run);
  }
} finally {
  await agent.idle();
  await handle.close();
}
const exampleSeconds = (performance.now() - exampleStarted) / 1000;

// 2. Held-out tasks, run by the model with the real tools.
const renderer = await getRenderer(EMBEDDED_MODEL);
const sampler = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
const config = {
  ...DEFAULT_HABIT_CONFIG,
  rates: { write_instead_of_edit: 0, edit_without_read: 0, wrong_test_command: 0 },
  teacherShare: 0,
};
const rng = new Rng(seed);
const ctx = { rng: rng.fork("steps"), schedule: new HabitSchedule(rng.fork("habits"), config), config, mistakeRate: 0 };
const heldOut: HeldOutRun[] = [];
const heldOutStarted = performance.now();
for (let i = 0; heldOut.length < Number(values["held-out"]); i++) {
  const family = FAMILY_IDS[i % FAMILY_IDS.length]!;
  // Every family in turn, the rounds alternating closed names (the benchmark scenarios' kind) and
  // open ones (never seen in training: only copying gets them right).
  const names = Math.floor(i / FAMILY_IDS.length) % 2 === 0 ? "closed" : "open";
  const workspace = generateWorkspace(HELD_OUT_SEED_BASE + 500_000_000 + seed * 10_000 + i, names);
  if (!FAMILIES[family].applicable(workspace)) continue;
  const run = await runHeldOutEpisode(planEpisode(ctx, family, workspace), {
    sampler,
    renderer,
    temperature,
    maxTokens,
    maxReplies,
    seed: seed * 1_000_000 + i * 100,
  });
  log(
    `held-out ${heldOut.length + 1} ${family}: first ${run.exactFirstCall ? "exact" : "not exact"}, ${run.validReplies}/${run.replies} valid, ${run.end}${run.madeUpSuccess ? ", MADE-UP SUCCESS" : ""}`,
  );
  heldOut.push(run);
}
const heldOutSeconds = (performance.now() - heldOutStarted) / 1000;
await backend.close();
snapshot.remove();
fs.rmSync(statesDir, { recursive: true, force: true });
fs.rmSync(workDir, { recursive: true, force: true });

const count = <T>(rows: T[], f: (r: T) => boolean) => rows.filter(f).length;
const sum = <T>(rows: T[], f: (r: T) => number) => rows.reduce((s, r) => s + f(r), 0);
const answered = heldOut.filter((r) => r.answer !== null);
const report = {
  benchmark: "agent",
  model: {
    dir: snapshot.source,
    logStep: snapshot.step,
    final: snapshot.final,
    weightsModified: snapshot.weightsModified,
  },
  goal: "example solved in >= 8 of 10 runs; exactFirstCall >= 0.7; validReplies >= 0.98; madeUpSuccess <= 0.02",
  options: { temperature, seed, maxTokens, maxReplies, corrections: 0, approveEverything: true },
  example: {
    task: "Fix the failing test.",
    runs: example.length,
    solved: count(example, (r) => r.solved),
    solvedRate: share(
      count(example, (r) => r.solved),
      example.length,
    ),
    testsPass: count(example, (r) => r.testsPass),
    replies: sum(example, (r) => r.replies),
    validReplies: share(
      sum(example, (r) => r.validReplies),
      sum(example, (r) => r.replies),
    ),
    madeUpSuccess: count(example, (r) => r.madeUpSuccess),
    ends: tally(example.map((r) => r.end)),
    seconds: Math.round(exampleSeconds),
  },
  heldOut: {
    tasks: heldOut.length,
    exactFirstCall: share(
      count(heldOut, (r) => r.exactFirstCall),
      heldOut.length,
    ),
    replies: sum(heldOut, (r) => r.replies),
    validReplies: share(
      sum(heldOut, (r) => r.validReplies),
      sum(heldOut, (r) => r.replies),
    ),
    answers: answered.length,
    // Of the final answers: those naming a change no call made.
    madeUpSuccess: share(
      count(answered, (r) => r.madeUpSuccess),
      answered.length,
    ),
    ends: tally(heldOut.map((r) => r.end)),
    byNames: Object.fromEntries(
      (["closed", "open"] as const).map((n) => {
        const rows = heldOut.filter((r) => r.names === n);
        return [
          n,
          {
            tasks: rows.length,
            exactFirstCall: share(
              count(rows, (r) => r.exactFirstCall),
              rows.length,
            ),
          },
        ];
      }),
    ),
    perFamily: Object.fromEntries(
      FAMILY_IDS.map((f) => {
        const rows = heldOut.filter((r) => r.family === f);
        return [f, { tasks: rows.length, exactFirstCall: count(rows, (r) => r.exactFirstCall) }];
      }),
    ),
    seconds: Math.round(heldOutSeconds),
  },
  seconds: Math.round((performance.now() - started) / 1000),
  loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  examples: example.map((r) => ({ solved: r.solved, end: r.end, calls: r.calls, answer: r.answer })),
  heldOutRuns: heldOut.map((r) => ({
    family: r.family,
    names: r.names,
    task: r.task,
    exactFirstCall: r.exactFirstCall,
    end: r.end,
    calls: r.calls,
    answer: r.answer,
    madeUpSuccess: r.madeUpSuccess,
    invalidReply: r.invalidReply,
  })),
};
const json = `${JSON.stringify(report, null, 2)}\n`;
if (values.out) fs.writeFileSync(values.out, json);
process.stdout.write(json);

function tally(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
