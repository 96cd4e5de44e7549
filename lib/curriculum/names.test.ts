import { describe, expect, it } from "vitest";
import { planEpisodes } from "./episodes";
import { ENGLISH_WORDS } from "./names";
import { inWrittenWorkspace } from "./test-workspace";
import { generateWorkspace } from "./workspace";
import { MODULE_WORDS, NOUNS, PROJECT_WORDS } from "./words";

describe("open names", () => {
  const open = Array.from({ length: 1000 }, (_, i) => generateWorkspace(10_000 + i, "open"));

  it("rarely repeat: no function name is in more than 1 % of 1,000 open workspaces, a template's own word in more than 5 %", () => {
    const uses = new Map<string, number>();
    const templateWords = new Set<string>();
    for (const ws of open) {
      const fns = ws.modules.flatMap((m) => m.functions);
      for (const fn of fns) if (fn.name === fn.template.id) templateWords.add(fn.name);
      for (const name of new Set(fns.map((f) => f.name))) uses.set(name, (uses.get(name) ?? 0) + 1);
    }
    expect(uses.size).toBeGreaterThan(2000);
    const counts = (words: boolean) => [...uses].filter(([n]) => templateWords.has(n) === words).map(([, c]) => c);
    expect(Math.max(...counts(false))).toBeLessThanOrEqual(10);
    expect(Math.max(...counts(true))).toBeLessThanOrEqual(50);
  });

  it("never use the closed lists' words, so the closed and open curricula do not share names", () => {
    const closed = new Set<string>([...PROJECT_WORDS, ...MODULE_WORDS, ...NOUNS]);
    expect(ENGLISH_WORDS.filter((w) => closed.has(w))).toEqual([]);
    for (const ws of open.slice(0, 200)) {
      expect(closed.has(ws.project)).toBe(false);
      for (const m of ws.modules) expect(closed.has(m.word)).toBe(false);
    }
  });

  it("leave the closed workspaces exactly as they were", () => {
    for (const seed of [1, 77, 2_000_000_123])
      expect(JSON.stringify(generateWorkspace(seed, "closed"))).toBe(JSON.stringify(generateWorkspace(seed)));
    const closedPlans = planEpisodes({ seed: 5, episodes: 50 }).map((e) => e.plan);
    expect(planEpisodes({ seed: 5, episodes: 50, openNames: 0 }).map((e) => e.plan)).toEqual(closedPlans);
  });

  it("lay some Python projects out flat, like the example project, and those pass their tests unless a bug fails one", async () => {
    const flat = open.filter((ws) => ws.language === "python" && !ws.modules[0]!.path.includes("/"));
    expect(flat.length).toBeGreaterThan(50);
    const sample = [flat.find((ws) => ws.bug !== null)!, flat.find((ws) => ws.bug === null)!];
    for (const ws of sample) {
      const result = await inWrittenWorkspace(ws, (bash) => bash(ws.testCommand));
      expect(result.success).toBe(ws.bug === null);
      if (ws.bug) expect(result.output).toContain(`FAIL: ${ws.bug.fn.testName} `);
    }
  }, 60_000);

  it("give every function in a workspace a return line of its own, so each planned edit matches once", () => {
    for (const ws of open) {
      const lines = ws.modules.flatMap((m) => m.functions.map((f) => f.returnText.trim()));
      for (const line of lines)
        expect(Object.values(ws.files).join("\n").split(line).length - 1, `${ws.seed}: ${line}`).toBe(1);
    }
    expect(() => planEpisodes({ seed: 19, episodes: 2000, openNames: 1, workspacePool: 2000 })).not.toThrow();
  });

  it("plan every family on open workspaces when asked, and only as often as asked", () => {
    const plans = planEpisodes({ seed: 9, episodes: 400, openNames: 0.6, workspacePool: 400 });
    const share = plans.filter((e) => e.workspace.names === "open").length / plans.length;
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeLessThan(0.7);
    expect(new Set(plans.filter((e) => e.workspace.names === "open").map((e) => e.plan.family)).size).toBe(8);
  });
});
