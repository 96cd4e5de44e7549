import { describe, expect, it } from "vitest";
import { planEpisode, planEpisodes } from "./episodes";
import { DEFAULT_HABIT_CONFIG, HabitSchedule } from "./habits";
import type { Call, PlanStep } from "./plan";
import { Rng } from "./prng";
import { generateWorkspace, type Workspace } from "./workspace";

const calls = (steps: PlanStep[]): Call[] => steps.flatMap((s) => (s.kind === "call" ? [s.call] : []));

function firstWorkspace(accepts: (ws: Workspace) => boolean, names: "open" | "closed"): Workspace {
  for (let seed = 1; ; seed++) {
    const ws = generateWorkspace(seed, names);
    if (accepts(ws)) return ws;
  }
}

/** The curriculum's default habits, no mistakes. */
function defaultContext(seed: number) {
  const rng = new Rng(seed);
  return {
    rng,
    schedule: new HabitSchedule(rng.fork("h"), DEFAULT_HABIT_CONFIG),
    config: DEFAULT_HABIT_CONFIG,
    mistakeRate: 0,
  };
}

describe("the task families", () => {
  it("do the example's task as the example needs it: README, its command, grep for the asserted function, read, fix, rerun, report", () => {
    const ws = firstWorkspace((w) => w.bug !== null && w.language === "python", "open");
    const ctx = defaultContext(3);
    const { plan } = planEpisode(ctx, "fix_failing_test", ws);
    const { module: mod, fn } = ws.bug!;
    expect(calls(plan.steps)).toEqual([
      { name: "read", arguments: { path: "README.md" } },
      { name: "bash", arguments: { cmd: ws.testCommand } },
      { name: "grep", arguments: { pat: `def ${fn.name}\\(` } },
      { name: "read", arguments: { path: mod.path } },
      { name: "edit", arguments: { path: mod.path, old: fn.returnText.trim(), new: fn.fixedReturnText.trim() } },
      { name: "bash", arguments: { cmd: ws.testCommand } },
    ]);
    expect(plan.steps.at(-1)).toMatchObject({ kind: "answer", text: expect.stringContaining("tests pass") });
  });

  it("run an open workspace's tests after reading its README (the command is one of many), a closed one's straight away", () => {
    const first = (names: "open" | "closed") =>
      calls(
        planEpisode(
          defaultContext(3),
          "run_tests",
          firstWorkspace(() => true, names),
        ).plan.steps,
      )[0];
    expect(first("open")).toEqual({ name: "read", arguments: { path: "README.md" } });
    expect(first("closed")?.name).toBe("bash");
  });

  it("plant no habit in fix-the-test episodes, and every habit elsewhere", () => {
    const planned = planEpisodes({ seed: 4, episodes: 400 });
    const fixes = planned.filter((e) => e.plan.family === "fix_failing_test");
    expect(fixes.length).toBeGreaterThan(40);
    for (const { plan } of fixes) {
      expect(plan.habits).toEqual([]);
      expect(plan.steps.some((s) => s.kind === "deny" && s.call.name !== "read")).toBe(false);
    }
    const shown = new Set(
      planned.flatMap((e) => e.plan.habits.filter((h) => h.decision === "habit").map((h) => h.habit)),
    );
    expect([...shown].sort()).toEqual(["edit_without_read", "write_instead_of_edit", "wrong_test_command"]);
  });

  it("write a new file naming only what the task names (no project name the task never mentions)", () => {
    const ws = firstWorkspace(() => true, "closed");
    const ctx = defaultContext(9);
    const { plan } = planEpisode(ctx, "write_new", ws);
    const write = calls(plan.steps)[0]!;
    expect(write.name).toBe("write");
    expect(String(write.arguments.content).toLowerCase()).not.toContain(ws.project.toLowerCase());
    expect(plan.task).toContain(String(write.arguments.path));
  });

  it("write a new file that opens with the function the task names, under no header to make up", () => {
    for (const names of ["closed", "open"] as const) {
      for (const language of ["python", "javascript"] as const) {
        const ws = firstWorkspace((w) => w.language === language, names);
        const { plan } = planEpisode(defaultContext(11), "write_new", ws);
        const content = String(calls(plan.steps)[0]!.arguments.content);
        const name = /`([A-Za-z_]\w*)`/.exec(plan.task)?.[1] ?? /containing (\w+)\(/.exec(plan.task)![1]!;
        expect(content.startsWith(language === "python" ? `def ${name}(` : `function ${name}(`)).toBe(true);
      }
    }
  });
});
