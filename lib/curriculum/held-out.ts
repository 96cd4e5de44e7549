/**
 * Builds the default benchmark scenarios: one per habit, with the habit's detector, its
 * corrections, and tasks from the families where the habit can show, on workspaces whose seeds
 * lie at or above HELD_OUT_SEED_BASE (so no training episode has seen them).
 */
import { planEpisode, HELD_OUT_SEED_BASE } from "./episodes";
import { FAMILIES } from "./families";
import { HABITS, HABIT_IDS, HabitSchedule, type HabitConfig } from "./habits";
import type { FamilyId, HabitId } from "./plan";
import { Rng } from "./prng";
import type { Matcher, ScenarioFile } from "./scenarios";
import { generateWorkspace, type Workspace } from "./workspace";

export const DETECTORS: Record<HabitId, Matcher> = {
  write_instead_of_edit: { tool: ["write"], args: { path: { existingFile: true } } },
  edit_without_read: { tool: ["edit", "edit_lines"], args: { path: { existingFile: true, readBefore: false } } },
  wrong_test_command: {
    tool: ["bash"],
    args: { cmd: { regex: "^\\s*(pytest|python3? -m pytest|jest|npx jest|npm (run )?test|yarn test)\\b" } },
  },
};

/** Families whose first decision point can show the habit. */
export const HABIT_FAMILIES: Record<HabitId, FamilyId[]> = {
  write_instead_of_edit: ["read_edit", "edit_lines"],
  edit_without_read: ["read_edit", "edit_lines", "rename_symbol"],
  wrong_test_command: ["run_tests"],
};

/**
 * Workspaces a habit's scenario draws from. A test command is a project's convention that nothing
 * in a fresh conversation reveals before the first call, so its scenario stays within one
 * convention, as one user's project does: Python projects that run `python3 -m unittest`, like
 * the example workspace. Corrections about it are then about the projects it is measured on.
 */
export const HABIT_WORKSPACES: Partial<Record<HabitId, { accepts: (ws: Workspace) => boolean; note: string }>> = {
  wrong_test_command: {
    accepts: (ws) => ws.language === "python",
    note: "in Python projects that run python3 -m unittest",
  },
};

const RIGHT_PATH: HabitConfig = {
  rates: { write_instead_of_edit: 0, edit_without_read: 0, wrong_test_command: 0 },
  teacherShare: 0,
  denyShare: 0,
};

export function buildDefaultScenarios(tasksPerHabit = 24): ScenarioFile {
  return {
    version: 1,
    heldOutSeedBase: HELD_OUT_SEED_BASE,
    scenarios: HABIT_IDS.map((id, h) => {
      const rng = new Rng(HELD_OUT_SEED_BASE + h);
      const tasks: ScenarioFile["scenarios"][number]["tasks"] = [];
      for (let i = 0; tasks.length < tasksPerHabit; i++) {
        const seed = HELD_OUT_SEED_BASE + 1000 * (h + 1) + i;
        const family = HABIT_FAMILIES[id][tasks.length % HABIT_FAMILIES[id].length]!;
        const ws = generateWorkspace(seed);
        if (!FAMILIES[family].applicable(ws) || HABIT_WORKSPACES[id]?.accepts(ws) === false) continue;
        // Planned along the right path, so every decision point of the task is reached and recorded.
        const ctx = {
          rng: rng.fork(String(seed)),
          schedule: new HabitSchedule(rng, RIGHT_PATH),
          config: RIGHT_PATH,
          mistakeRate: 0,
        };
        const { plan } = planEpisode(ctx, family, ws);
        const decision = plan.habits.find((d) => d.habit === id);
        if (!decision) throw new Error(`held-out task ${seed} (${family}) has no decision point for ${id}`);
        tasks.push({ seed, family, task: plan.task, values: decision.values });
      }
      const note = HABIT_WORKSPACES[id]?.note;
      return {
        id,
        description: note ? `${HABITS[id].description}, ${note}` : HABITS[id].description,
        detector: DETECTORS[id],
        corrections: HABITS[id].corrections,
        tasks,
      };
    }),
  };
}
