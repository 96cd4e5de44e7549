/**
 * `npm run bench:learning [-- --n 16 --ks 1,3,5,10,20 --configs token:student,token:ema,token:frozen
 * --lr 3e-3 --rank 32 --ema-tau 0.05 --refresh-every 10 --rehearsal-calls 8 --rehearsal-weight 0.1
 * --scenarios bench/scenarios/default.json --seed 1 --quick]` measures
 * how fast corrections change the embedded model: per habit scenario and SDPO configuration, the
 * rate of the corrected behaviour in N fresh held-out conversations before and after k SDPO
 * updates, and what it costs on unrelated task families. Without --configs and --lr it runs the
 * app's default configuration for this model (its continualcode.json recommendations over the
 * settings' defaults) first, then the other teacher modes at the same rate for comparison, out
 * to k = 20 so that a collapse after many corrections shows. A step rehearses the user's approved
 * calls as the app does (settings rehearsalCalls, rehearsalWeight): here the untrained model's own
 * ideal first calls on other families' tasks, seeded apart from every evaluation task. Prints one
 * JSON object; progress on stderr.
 */
import fs from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { getRenderer } from "@/lib/chat";
import { FAMILY_IDS, type FamilyId } from "@/lib/curriculum/plan";
import { HELD_OUT_SEED_BASE } from "@/lib/curriculum/episodes";
import { loadScenarios } from "@/lib/curriculum/scenarios";
import { familyDecisionPoints, scenarioDecisionPoint, type DecisionPoint } from "@/lib/bench/decision-points";
import {
  runConfig,
  type LearningSetup,
  type Measured,
  type RunConfig,
  type RunResult,
  type ScenarioData,
} from "@/lib/bench/learning";
import {
  learningReport,
  mergeReports,
  parseConfigs,
  parseNumberList,
  type LearningReport,
} from "@/lib/bench/learning-report";
import { snapshotModel } from "@/lib/bench/model-snapshot";
import { approvedCalls } from "@/lib/bench/approved-calls";
import { projectPath } from "@/lib/paths";
import { TOOL_SPECS } from "@/lib/tools";
import { DEFAULTS } from "@/lib/config";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { readModelDefaults } from "@/lib/training/model-defaults";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values } = parseArgs({
  options: {
    n: { type: "string" },
    ks: { type: "string" },
    configs: { type: "string" },
    scenarios: { type: "string", default: projectPath("bench", "scenarios", "default.json") },
    lr: { type: "string" },
    rank: { type: "string", default: "32" },
    seed: { type: "string", default: "1" },
    unrelated: { type: "string" },
    temperature: { type: "string", default: "0.7" },
    "max-tokens": { type: "string", default: "128" },
    "model-dir": { type: "string", default: projectPath("models", "qwen3-tiny-coder") },
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    "ema-tau": { type: "string" },
    "refresh-every": { type: "string" },
    "rehearsal-calls": { type: "string" },
    "rehearsal-weight": { type: "string" },
    merge: { type: "string" },
  },
});

// --merge a.json,b.json: one report from parts of the table measured side by side (see mergeReports).
if (values.merge) {
  const parts = values.merge.split(",").map((f) => JSON.parse(fs.readFileSync(f.trim(), "utf8")) as LearningReport);
  process.stdout.write(`${JSON.stringify(mergeReports(parts), null, 2)}\n`);
  process.exit(0);
}

const quick = values.quick;
const n = Number(values.n ?? (quick ? 6 : 16));
const ks = parseNumberList(values.ks ?? (quick ? "1,3" : "1,3,5,10,20"));
// What a user of this model trains with unless they change it.
const recommended = readModelDefaults(values["model-dir"]);
const appDefault = {
  lossMode: (recommended.lossMode ?? DEFAULTS.lossMode) as RunConfig["lossMode"],
  teacherMode: (recommended.teacherMode ?? DEFAULTS.teacherMode) as RunConfig["teacherMode"],
  learningRate: (recommended.learningRate ?? DEFAULTS.learningRate) as number,
  rehearsalCalls: (recommended.rehearsalCalls ?? DEFAULTS.rehearsalCalls) as number,
  rehearsalWeight: (recommended.rehearsalWeight ?? DEFAULTS.rehearsalWeight) as number,
};
const lrs = values.lr ? parseNumberList(values.lr) : [appDefault.learningRate];
const comparisons = quick ? [] : ["token:student", "token:ema", "token:frozen"];
const defaultPair = `${appDefault.lossMode}:${appDefault.teacherMode}`;
const configs = parseConfigs(
  values.configs ?? [defaultPair, ...comparisons.filter((c) => c !== defaultPair)].join(","),
);
// 48 unrelated tasks: one task changing its answer moves the rate 2.1 points, well inside the 5-point budget.
const unrelatedN = Number(values.unrelated ?? (quick ? 12 : 48));
const log = (line: string) =>
  process.stderr.write(`[bench:learning ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const started = performance.now();

const file = await loadScenarios(values.scenarios);
const scenarios = values.only ? file.scenarios.filter((s) => values.only!.split(",").includes(s.id)) : file.scenarios;
const snapshot = snapshotModel(values["model-dir"]);
log(
  `model ${snapshot.source} (log step ${snapshot.step}${snapshot.final ? ", final" : ""}, weights ${snapshot.weightsModified}) copied to ${snapshot.dir}`,
);
// Each step saves its state as the app's does, inside the snapshot that is removed at the end.
const backend = createEmbeddedBackend({
  models: { [EMBEDDED_MODEL]: { dir: snapshot.dir } },
  statesDir: `${snapshot.dir}/states`,
});
const setup: LearningSetup = {
  backend,
  model: EMBEDDED_MODEL,
  renderer: await getRenderer(EMBEDDED_MODEL),
  tools: TOOL_SPECS,
  rank: Number(values.rank),
  temperature: Number(values.temperature),
  maxTokens: Number(values["max-tokens"]),
  seed: Number(values.seed),
  habitTries: 3,
  log,
};

// --ema-tau and --refresh-every tune the ema and frozen teachers (a frozen teacher never refreshed is the base model: a trust region).
const teacherKnobs = {
  ...(values["ema-tau"] ? { emaTau: Number(values["ema-tau"]) } : {}),
  ...(values["refresh-every"] ? { teacherRefreshEvery: Number(values["refresh-every"]) } : {}),
};
// Every configuration rehearses as the app default does unless a flag says otherwise.
const rehearsal = {
  rehearsalCalls: values["rehearsal-calls"] ? Number(values["rehearsal-calls"]) : appDefault.rehearsalCalls,
  rehearsalWeight: values["rehearsal-weight"] ? Number(values["rehearsal-weight"]) : appDefault.rehearsalWeight,
};
const maxK = Math.max(...ks);
const results: Array<{ data: ScenarioData; runs: RunResult[] }> = [];
try {
  for (const [si, scenario] of scenarios.entries()) {
    // The last max(ks) tasks train; the rest are for evaluation only.
    const trainTasks = scenario.tasks.slice(-maxK);
    const evalTasks = scenario.tasks.length > maxK ? scenario.tasks.slice(0, -maxK) : scenario.tasks;
    const evalPoints: DecisionPoint[] = [];
    for (const t of evalTasks.slice(0, n)) evalPoints.push(await scenarioDecisionPoint(scenario, t));
    const evaluation = Array.from({ length: n }, (_, i) => evalPoints[i % evalPoints.length]!);
    const training = [];
    for (const t of trainTasks) training.push({ point: await scenarioDecisionPoint(scenario, t), values: t.values });
    const own = new Set(scenario.tasks.map((t) => t.family));
    const others = FAMILY_IDS.filter((f): f is FamilyId => !own.has(f));
    const unrelated = await familyDecisionPoints(others, unrelatedN, HELD_OUT_SEED_BASE + 900_000 + 10_000 * si);
    // The user's approved calls: tasks of the same other families on seeds no evaluation uses; sampled once from the base model.
    const approvedPoints =
      rehearsal.rehearsalCalls > 0
        ? await familyDecisionPoints(others, 4 * rehearsal.rehearsalCalls, HELD_OUT_SEED_BASE + 800_000 + 10_000 * si)
        : [];
    const base = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
    const approved = (await approvedCalls(base, approvedPoints, setup)).slice(0, rehearsal.rehearsalCalls);
    const data: ScenarioData = { scenario, evaluation, training, unrelated, approved };
    log(
      `${scenario.id}: ${evaluation.length} conversations on ${evalPoints.length} tasks, ${training.length} training tasks, ${unrelated.length} unrelated (${others.join(", ")}), ${approved.length} approved calls to rehearse`,
    );
    const runs: RunResult[] = [];
    // A fresh adapter is the base model, so one measurement at k = 0 serves every configuration.
    let before: Measured | undefined;
    for (const learningRate of lrs) {
      for (const c of configs) {
        const config: RunConfig = { ...c, learningRate, ...teacherKnobs, ...rehearsal };
        const { before: at0, ...run } = await runConfig(setup, data, config, ks, before);
        before = at0;
        runs.push(run);
      }
    }
    results.push({ data, runs });
  }
} finally {
  await backend.close();
  snapshot.remove();
}

const report = learningReport({
  model: {
    name: EMBEDDED_MODEL,
    dir: snapshot.source,
    logStep: snapshot.step,
    final: snapshot.final,
    weightsModified: snapshot.weightsModified,
  },
  appDefault,
  options: {
    n,
    ks,
    lrs,
    configs,
    ...teacherKnobs,
    ...rehearsal,
    rank: setup.rank,
    temperature: setup.temperature,
    maxTokens: setup.maxTokens,
    seed: setup.seed,
    unrelated: unrelatedN,
    scenarios: values.scenarios,
    quick,
  },
  results,
  seconds: (performance.now() - started) / 1000,
  loadavg: os.loadavg(),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
