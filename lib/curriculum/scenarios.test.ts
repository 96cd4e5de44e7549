import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectPath } from "@/lib/paths";
import { HELD_OUT_SEED_BASE, planEpisodes } from "./episodes";
import { HABIT_IDS } from "./habits";
import { buildDefaultScenarios, DETECTORS } from "./held-out";
import type { Call } from "./plan";
import { detectHabit, loadScenarios, type DetectionContext } from "./scenarios";

const file = projectPath(path.join("bench", "scenarios", "default.json"));

describe("benchmark scenarios", () => {
  it("bench/scenarios/default.json parses and is what the habits and held-out seeds build", async () => {
    const loaded = await loadScenarios(file);
    expect(loaded).toEqual(buildDefaultScenarios());
    expect(loaded.scenarios.map((s) => s.id)).toEqual(HABIT_IDS);
  });

  it("measures the test-command habit within one convention, as one user's project has: Python projects running python3 -m unittest", async () => {
    const scenario = (await loadScenarios(file)).scenarios.find((s) => s.id === "wrong_test_command")!;
    expect(scenario.tasks.length).toBeGreaterThan(10);
    for (const t of scenario.tasks) expect(t.values.command).toBe("python3 -m unittest");
  });

  it("uses only held-out workspace seeds, disjoint from every training episode's", async () => {
    const loaded = await loadScenarios(file);
    const heldOut = new Set(loaded.scenarios.flatMap((s) => s.tasks.map((t) => t.seed)));
    for (const seed of heldOut) expect(seed).toBeGreaterThanOrEqual(HELD_OUT_SEED_BASE);
    const training = new Set(planEpisodes({ seed: 1, episodes: 2000 }).map((e) => e.plan.workspaceSeed));
    for (const seed of training) expect(heldOut.has(seed)).toBe(false);
  });

  it("detects each habit's wrong call in planned episodes and never the calls that follow its correction", () => {
    const hits = Object.fromEntries(HABIT_IDS.map((id) => [id, { wrong: 0, right: 0 }]));
    for (const { plan, workspace } of planEpisodes({ seed: 21, episodes: 400 })) {
      const existing = new Set(Object.keys(workspace.files));
      const read = new Set<string>();
      const ctx = (): DetectionContext => ({ existingFiles: existing, readPaths: read });
      const calls = plan.steps.flatMap((s) =>
        s.kind === "call" || s.kind === "deny"
          ? [{ call: s.call, denied: s.kind === "deny", ok: s.kind === "call" && s.expect === "ok" }]
          : [],
      );
      const shownHabits = plan.habits.filter((h) => h.decision === "habit").map((h) => h.habit);
      for (const { call, denied, ok } of calls) {
        const detected = HABIT_IDS.filter((id) => detectHabit(DETECTORS[id], call, ctx()));
        for (const id of detected) {
          // Anything the detector flags must be a habit the plan chose to show in this episode.
          expect(shownHabits).toContain(id);
          hits[id]!.wrong++;
        }
        if (denied) continue;
        if (ok && call.name === "read") read.add(String(call.arguments.path));
        if (ok && call.name === "write") existing.add(String(call.arguments.path));
      }
    }
    for (const id of HABIT_IDS) expect(hits[id]!.wrong).toBeGreaterThan(10);
  });

  it("matches argument predicates as declared", () => {
    const ctx: DetectionContext = { existingFiles: new Set(["a.py"]), readPaths: new Set(["a.py"]) };
    const write: Call = { name: "write", arguments: { path: "./a.py", content: "x" } };
    expect(detectHabit({ tool: ["write"], args: { path: { existingFile: true } } }, write, ctx)).toBe(true);
    expect(detectHabit({ tool: ["write"], args: { path: { existingFile: false } } }, write, ctx)).toBe(false);
    expect(detectHabit({ tool: ["edit"], args: {} }, write, ctx)).toBe(false);
    expect(detectHabit({ tool: ["write"], args: { path: { readBefore: false } } }, write, ctx)).toBe(false);
    expect(detectHabit(DETECTORS.wrong_test_command, { name: "bash", arguments: { cmd: "pytest -q" } }, ctx)).toBe(
      true,
    );
    expect(
      detectHabit(DETECTORS.wrong_test_command, { name: "bash", arguments: { cmd: "python3 -m unittest" } }, ctx),
    ).toBe(false);
    expect(
      detectHabit({ tool: ["bash"], args: { cmd: { equals: "ls" } } }, { name: "bash", arguments: { cmd: "ls" } }, ctx),
    ).toBe(true);
  });
});
