/**
 * `npm run bench:loop [-- --runs 10 --warmup 1]` times the correction loop in
 * process: the real Agent over an in-memory PGlite and the embedded model (a private copy of its
 * directory), on held-out workspaces. Each run starts a conversation, waits for a proposal, denies
 * it with a correction and times decide(deny) → the retried proposal's first token (its first
 * streamed text) and → its whole text, with the training step's parts and the retry's sampling
 * split into prefill and decode. Prints JSON.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Agent } from "@/lib/agent/agent";
import { EventWatch, firstProposal, timeDenial, type LoopRun } from "@/lib/bench/loop";
import { snapshotModel } from "@/lib/bench/model-snapshot";
import { round, summarise } from "@/lib/bench/stats";
import { writeWorkspace } from "@/lib/curriculum/runner";
import { fillCorrection } from "@/lib/curriculum/habits";
import { loadScenarios } from "@/lib/curriculum/scenarios";
import { generateWorkspace } from "@/lib/curriculum/workspace";
import { createDb } from "@/lib/db/client";
import { createUser } from "@/lib/db/queries/users";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
    scenarios: { type: "string", default: projectPath("bench", "scenarios", "default.json") },
    temperature: { type: "string", default: "0" },
    "max-tokens": { type: "string", default: "256" },
    "learning-rate": { type: "string", default: "1e-5" },
    "model-dir": { type: "string", default: projectPath("models", "qwen3-tiny-coder") },
    timeout: { type: "string", default: "120" },
  },
});
const log = (line: string) => process.stderr.write(`[bench:loop ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const timeoutMs = Number(values.timeout) * 1000;

const snapshot = snapshotModel(values["model-dir"]);
log(
  `model ${snapshot.source} (log step ${snapshot.step}${snapshot.final ? ", final" : ""}, weights ${snapshot.weightsModified})`,
);
const statesDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-loop-states-"));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-loop-ws-"));
const backend = createEmbeddedBackend({ models: { [EMBEDDED_MODEL]: { dir: snapshot.dir } }, statesDir });
const handle = await createDb({ dataDir: "memory" });
const db = handle.db;
const agent = new Agent({ db, backend });
// The held-out tasks of every scenario, in turn: real corrections on real proposals.
const file = await loadScenarios(values.scenarios);
const tasks = file.scenarios.flatMap((s) => s.tasks.map((t) => ({ scenario: s, task: t })));

const measured: LoopRun[] = [];
const skipped: string[] = [];
try {
  const user = await createUser({ db, name: "bench", email: "bench@example.test" });
  await saveUserSettings({
    db,
    userId: user.id,
    settings: {
      model: EMBEDDED_MODEL,
      temperature: Number(values.temperature),
      maxTokens: Number(values["max-tokens"]),
      learningRate: Number(values["learning-rate"]),
    },
  });
  for (let i = 0; measured.length < runs + warmup && i < tasks.length * 2; i++) {
    const { scenario, task } = tasks[(i * 7) % tasks.length]!;
    const dir = path.join(workDir, `ws-${i}`);
    fs.mkdirSync(dir);
    await writeWorkspace(generateWorkspace(task.seed), dir);
    const ws = await createWorkspace({ db, ownerId: user.id, name: `ws-${i}`, path: dir });
    const conv = await agent.startConversation({ ownerId: user.id, workspaceId: ws.id });
    const watch = new EventWatch(agent.core.events, conv.id);
    try {
      const ref = { ownerId: user.id, conversationId: conv.id };
      const callId = await firstProposal(agent, watch, ref, task.task, timeoutMs);
      await agent.idle();
      if (!callId) {
        skipped.push(`${task.seed}: no proposal`);
        continue;
      }
      const correction = fillCorrection(scenario.corrections[i % scenario.corrections.length]!, task.values);
      const run = await timeDenial(
        agent,
        db,
        watch,
        { ...ref, policyId: conv.policyId! },
        callId,
        correction,
        timeoutMs,
      );
      const label = measured.length < warmup ? "warm-up" : `run ${measured.length - warmup + 1}`;
      log(
        `${label}: ${round(run.denialToFirstToken)} s to the first token, ${round(run.denialToRetryComplete)} s to the whole retry (training ${round(run.training)} s, sampling ${round(run.sampling)} s to the first token, ${round(run.samplingComplete)} s to the last, prompt ${run.promptTokens} tokens, retry ${run.retryTokens} tokens, step ${run.stepStatus})`,
      );
      measured.push(run);
    } finally {
      watch.close();
    }
  }
} finally {
  await agent.idle();
}

const timed = measured.slice(warmup);
// Prefill alone: one greedy token on each timed retry's prompt (same engine, base weights); decode is the rest.
const sampler = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
const prefill: number[] = [];
for (const r of timed) {
  if (r.prompt.length === 0) continue;
  // The retry ran on fresh weights, so its prompt was prefilled from scratch. Sampling after a
  // one-token prompt that shares nothing with it leaves the engine's prefix cache nothing to reuse.
  await sampler.sample([r.prompt.at(-1)!], { maxTokens: 1, temperature: 0 });
  const t = performance.now();
  await sampler.sample(r.prompt, { maxTokens: 1, temperature: 0 });
  prefill.push((performance.now() - t) / 1000);
}
await backend.close();
await handle.close();
snapshot.remove();
fs.rmSync(statesDir, { recursive: true, force: true });
fs.rmSync(workDir, { recursive: true, force: true });
const partKeys = [...new Set(timed.flatMap((r) => Object.keys(r.parts)))];
const report = {
  benchmark: "loop",
  model: {
    name: EMBEDDED_MODEL,
    dir: snapshot.source,
    logStep: snapshot.step,
    final: snapshot.final,
    weightsModified: snapshot.weightsModified,
  },
  goal: "p50 of denial → first token of the retried proposal <= 1.5 s",
  options: {
    runs: timed.length,
    warmup,
    temperature: Number(values.temperature),
    maxTokens: Number(values["max-tokens"]),
    learningRate: Number(values["learning-rate"]),
  },
  denialToFirstToken: summarise(timed.map((r) => r.denialToFirstToken)),
  goalReached: summarise(timed.map((r) => r.denialToFirstToken)).p50 <= 1.5,
  denialToRetryComplete: summarise(timed.map((r) => r.denialToRetryComplete)),
  denialToProposal: summarise(timed.map((r) => r.denialToProposal)),
  parts: {
    decide: summarise(timed.map((r) => r.decide)),
    training: summarise(timed.map((r) => r.training)),
    ...Object.fromEntries(
      partKeys.map((k) => [k, summarise(timed.flatMap((r) => (r.parts[k] === undefined ? [] : [r.parts[k]!])))]),
    ),
    sampling: summarise(timed.map((r) => r.sampling)),
    samplingComplete: summarise(timed.map((r) => r.samplingComplete)),
    prefill: summarise(prefill),
    // An estimate: the prefill is timed apart from the retry, so noise can exceed the short decode.
    decode: summarise(timed.map((r, i) => Math.max(0, r.samplingComplete - (prefill[i] ?? 0)))),
  },
  promptTokens: summarise(
    timed.map((r) => r.promptTokens),
    0,
  ),
  retryTokens: summarise(
    timed.map((r) => r.retryTokens),
    0,
  ),
  stepErrors: [...new Set(timed.flatMap((r) => (r.stepError ? [r.stepError] : [])))],
  stepStatus: Object.fromEntries(
    [...new Set(timed.map((r) => r.stepStatus))].map((s) => [s, timed.filter((r) => r.stepStatus === s).length]),
  ),
  skipped,
  loadavg: os.loadavg().map((x) => round(x, 2)),
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
