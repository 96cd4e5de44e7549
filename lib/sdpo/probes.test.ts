/**
 * Probe scoring and the guard on the bundled model (fixed seed, greedy probes): a version keeps
 * every call it proposes itself, a denied call it still proposes comes back, and ten corrections
 * of one habit at the app's rate move the first moves of unrelated tasks far enough for the guard
 * to flag the step.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { familyDecisionPoints, scenarioDecisionPoint, type DecisionPoint } from "@/lib/bench/decision-points";
import { openLearner, type Learner } from "@/lib/bench/learning";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import { HELD_OUT_SEED_BASE } from "@/lib/curriculum/episodes";
import { loadScenarios } from "@/lib/curriculum/scenarios";
import { projectPath } from "@/lib/paths";
import { TOOL_SPECS } from "@/lib/tools";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import type { SamplingClient } from "@/lib/training/types";
import { judgeStep } from "./guard";
import { denialExample } from "./denial-example";
import { callKey, scoreProbes, type Probe, type ProbeCall } from "./probes";
import { sdpoConfigFromSettings } from "./settings";

const RATE = 2e-3; // the bundled model's recommended rate (models/qwen3-tiny-coder/continualcode.json)

describe("probe scoring on the bundled model", () => {
  let backend: EmbeddedBackend;
  let renderer: Renderer;
  /** A fresh policy trained as the app trains one (lib/bench/learning.ts's learner). */
  let learner: Learner;
  let unrelated: DecisionPoint[];

  const prompt = (p: DecisionPoint) =>
    renderer.renderPrompt(p.messages, TOOL_SPECS, { addGenerationPrompt: true }).tokens;
  /** The greedy reply's first call and length: what the user saw proposed, and approved unchanged. */
  async function proposed(
    sampler: SamplingClient,
    p: DecisionPoint,
  ): Promise<{ call: ProbeCall | null; tokens: number }> {
    const seq = (
      await sampler.sample(prompt(p), { maxTokens: 128, temperature: 0, seed: 0, stop: renderer.stopTokens })
    ).sequences[0]!;
    const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: TOOL_SPECS });
    return {
      call: parsed.kind === "message" ? (parsed.message.toolCalls?.[0] ?? null) : null,
      tokens: seq.tokens.length,
    };
  }
  async function retentionProbes(sampler: SamplingClient): Promise<Probe[]> {
    const probes: Probe[] = [];
    for (const [i, p] of unrelated.entries()) {
      const { call, tokens } = await proposed(sampler, p);
      if (call)
        probes.push({
          kind: "retention",
          id: `r${i}`,
          promptTokens: prompt(p),
          approved: call,
          approvedTokens: tokens,
        });
    }
    return probes;
  }

  beforeAll(async () => {
    backend = createEmbeddedBackend({
      models: { [EMBEDDED_MODEL]: { dir: projectPath("models", "qwen3-tiny-coder") } },
      statesDir: fs.mkdtempSync(path.join(os.tmpdir(), "cc-probes-states-")),
    });
    renderer = await getRenderer(EMBEDDED_MODEL);
    unrelated = await familyDecisionPoints(
      ["find_file", "read_edit", "write_new", "rename_symbol"],
      8,
      HELD_OUT_SEED_BASE + 700_000,
    );
    learner = await openLearner(
      {
        backend,
        model: EMBEDDED_MODEL,
        renderer,
        tools: TOOL_SPECS,
        rank: 32,
        seed: 1,
        temperature: 0.7,
        maxTokens: 128,
        habitTries: 1,
        log: () => {},
      },
      { lossMode: "token", teacherMode: "student", learningRate: RATE },
    );
  }, 300_000);
  afterAll(async () => {
    await learner?.close();
    await backend?.close();
  });

  it("a version keeps every call it proposes itself, and a denied call it still proposes comes back", async () => {
    const retention = await learner.withSampler(retentionProbes);
    expect(retention.length).toBeGreaterThanOrEqual(4);
    const corrections: Probe[] = retention.map((r, i) =>
      r.kind === "retention"
        ? {
            kind: "correction",
            id: `c${i}`,
            promptTokens: r.promptTokens,
            denied: r.approved,
            deniedTokens: r.approvedTokens,
            corrected: { name: "read", arguments: { path: "CHANGELOG.md" } },
          }
        : r,
    );
    const scores = await learner.withSampler((sampler) =>
      scoreProbes({ sampler, renderer, tools: TOOL_SPECS, probes: [...retention, ...corrections] }),
    );
    expect(scores).toMatchObject({
      approvedKept: 1,
      deniedReturned: 1,
      correctionsKept: 0,
      probes: 2 * retention.length,
    });
    expect(
      scores.outcomes.filter((o) => o.kind === "correction").every((o) => o.correctedAppeared === false && !o.kept),
    ).toBe(true);
    expect(scores.outcomes.filter((o) => o.kind === "retention").map((o) => o.firstMove)).toEqual(
      retention.map((r) => (r.kind === "retention" ? callKey(r.approved) : "")),
    );
    // Nothing changed: the guard sees no drop from the version's own best.
    expect(judgeStep({ scores, earlier: [1], settings: { dropPoints: 10, action: "warn" } })).toEqual({
      flagged: false,
      reasons: [],
      action: null,
    });
  }, 300_000);

  it("ten corrections of one habit at the app's rate lose approved unrelated calls, and the guard flags the step", async () => {
    const before = await learner.withSampler(retentionProbes);
    const file = await loadScenarios(projectPath("bench", "scenarios", "default.json"));
    const scenario = file.scenarios.find((s) => s.id === "wrong_test_command")!;
    const sdpo = sdpoConfigFromSettings(learner.settings);
    for (const [i, task] of scenario.tasks.slice(-10).entries()) {
      const point = await scenarioDecisionPoint(scenario, task);
      const promptTokens = prompt(point);
      const seq = (
        await learner.withSampler((sampler) =>
          sampler.sample(promptTokens, { maxTokens: 128, temperature: 0.7, seed: 1 + i, stop: renderer.stopTokens }),
        )
      ).sequences[0]!;
      const denial = denialExample({
        completion: { promptTokens, completionTokens: seq.tokens, samplingLogprobs: seq.logprobs },
        promptMessages: point.messages,
        task: String(point.messages[1]!.content),
        correction: { feedback: "This project runs its tests with python3 -m unittest, not pytest." },
        renderer,
        tools: TOOL_SPECS,
        config: sdpo,
      });
      expect((await learner.train({ denials: [denial], rewards: [] }, "importance_sampling")).status).toBe("done");
    }
    const scores = await learner.withSampler((sampler) =>
      scoreProbes({ sampler, renderer, tools: TOOL_SPECS, probes: before }),
    );
    expect(scores.approvedKept).not.toBeNull();
    expect(scores.approvedKept!).toBeLessThan(0.9);
    const verdict = judgeStep({ scores, earlier: [1], settings: { dropPoints: 10, action: "reject" } });
    expect(verdict).toMatchObject({ flagged: true, action: "reject" });
    expect(verdict.reasons[0]).toMatchObject({ kind: "approved_drop", bestRecent: 1, now: scores.approvedKept });
  }, 600_000);
});
