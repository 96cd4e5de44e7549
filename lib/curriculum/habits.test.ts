import { describe, expect, it } from "vitest";
import { habitStats } from "./dataset";
import { HELD_OUT_SEED_BASE, planEpisodes } from "./episodes";
import { DEFAULT_HABIT_CONFIG, HABIT_IDS, HabitSchedule, type HabitConfig } from "./habits";
import { Rng } from "./prng";

describe("habit injection", () => {
  const planned = planEpisodes({ seed: 11, episodes: 1000 });
  const stats = habitStats(planned.map((e) => e.plan));

  it("shows each habit at its configured rate (±3 points) over 1,000 episodes, counting only decisions without a correction in context", () => {
    for (const id of HABIT_IDS) {
      expect(stats[id].baseDecisions).toBeGreaterThan(100);
      expect(Math.abs(stats[id].rate - DEFAULT_HABIT_CONFIG.rates[id])).toBeLessThanOrEqual(0.03);
      // Often enough that bench:learning's fresh conversations show it before any correction.
      expect(stats[id].rate).toBeGreaterThanOrEqual(0.25);
    }
  });

  it("follows other configured rates just as closely", () => {
    const config: HabitConfig = {
      ...DEFAULT_HABIT_CONFIG,
      rates: { write_instead_of_edit: 0.3, edit_without_read: 0.5, wrong_test_command: 0.9 },
    };
    const other = habitStats(planEpisodes({ seed: 12, episodes: 1000, habits: config }).map((e) => e.plan));
    for (const id of HABIT_IDS) expect(Math.abs(other[id].rate - config.rates[id])).toBeLessThanOrEqual(0.03);
  });

  it("writes some decision points in the teacher's shape and both denies and approves shown habits", () => {
    for (const id of HABIT_IDS) {
      expect(stats[id].teacherShaped).toBeGreaterThan(0);
      expect(stats[id].denied).toBeGreaterThan(0);
      expect(stats[id].approved).toBeGreaterThan(0);
    }
  });

  it("puts a teacher reprompt right before the right call, never before the habit's wrong call", () => {
    for (const { plan } of planned) {
      plan.steps.forEach((step, i) => {
        if (step.kind !== "reprompt") return;
        const next = plan.steps[i + 1];
        expect(next?.kind).toBe("call");
      });
    }
  });

  it("schedules exactly round(rate × 20) habits in every block of 20 decisions", () => {
    const schedule = new HabitSchedule(new Rng(5), DEFAULT_HABIT_CONFIG);
    for (let block = 0; block < 5; block++) {
      const shown = Array.from({ length: 20 }, () => schedule.next("wrong_test_command")).filter(Boolean).length;
      expect(shown).toBe(Math.round(DEFAULT_HABIT_CONFIG.rates.wrong_test_command * 20));
    }
  });

  it("trains only on workspaces below the held-out seed range", () => {
    for (const { plan } of planned) expect(plan.workspaceSeed).toBeLessThan(HELD_OUT_SEED_BASE);
  });

  it("plans the same episodes from the same seed", () => {
    const again = planEpisodes({ seed: 11, episodes: 1000 });
    expect(JSON.stringify(again.map((e) => e.plan))).toBe(JSON.stringify(planned.map((e) => e.plan)));
  });
});
