/**
 * The habits a person would correct, planted in the base policy at known rates so learning can
 * be measured: each one is a wrong-but-plausible call in place of the right one, with several
 * phrasings of the correction. At a habit's first decision point in an episode the plan either
 * shows the teacher shape (the reprompt with a correction, then the right call) or takes a base
 * decision: the habit at the configured rate (exactly, in shuffled blocks), else the right call.
 * A shown habit is then denied with a correction (the right call follows) or approved (and the
 * episode lives with, or recovers from, what it did).
 */
import type { Rng } from "./prng";
import type { Call, HabitId, PlanBuilder } from "./plan";

export interface HabitDef {
  id: HabitId;
  description: string;
  /** Placeholders: {path}, {tool} (the right tool), {command} (the right command), {wrong}. */
  corrections: string[];
}

export const HABITS: Record<HabitId, HabitDef> = {
  write_instead_of_edit: {
    id: "write_instead_of_edit",
    description: "rewrites a whole existing file with write where an edit or edit_lines call fits",
    corrections: [
      "Don't rewrite the whole file. Use {tool} to change only what needs changing in {path}.",
      "Use {tool} for a small change like this, not write.",
      "Rewriting all of {path} is risky; change just those lines with {tool}.",
    ],
  },
  edit_without_read: {
    id: "edit_without_read",
    description: "edits a file it has not read in this conversation",
    corrections: [
      "Read {path} before you edit it.",
      "You haven't read {path} yet. Read it first, then edit.",
      "Look at the file first: read {path}, then make the change.",
    ],
  },
  wrong_test_command: {
    id: "wrong_test_command",
    description: "runs a test command the project does not use",
    corrections: [
      "This project runs its tests with `{command}`, not `{wrong}`.",
      "We don't use {wrong} here. Run `{command}` (see the README).",
      "Use `{command}` to run the tests.",
    ],
  },
};

export const HABIT_IDS = Object.keys(HABITS) as HabitId[];

export interface HabitConfig {
  /** Share of base decisions (no correction in context) that show the habit. */
  rates: Record<HabitId, number>;
  /** Share of decision points written in the teacher shape instead. */
  teacherShare: number;
  /** Share of shown habits the person denies (the rest are approved). */
  denyShare: number;
}

export const DEFAULT_HABIT_CONFIG: HabitConfig = {
  rates: { write_instead_of_edit: 0.3, edit_without_read: 0.3, wrong_test_command: 0.3 },
  teacherShare: 0.15,
  denyShare: 0.6,
};

/** Block size of the exact-rate schedule: each block of base decisions holds round(rate·size) habits. */
const BLOCK = 20;

/** Decides, per habit, whether each base decision shows it; exact per block, random within. */
export class HabitSchedule {
  private readonly queues = new Map<HabitId, boolean[]>();

  constructor(
    private readonly rng: Rng,
    private readonly config: HabitConfig,
  ) {}

  next(habit: HabitId): boolean {
    let queue = this.queues.get(habit);
    if (!queue || queue.length === 0) {
      const shown = Math.round(this.config.rates[habit] * BLOCK);
      queue = this.rng.shuffle(Array.from({ length: BLOCK }, (_, i) => i < shown));
      this.queues.set(habit, queue);
    }
    return queue.pop()!;
  }
}

export function fillCorrection(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

export interface HabitContext {
  rng: Rng;
  schedule: HabitSchedule;
  config: HabitConfig;
}

export type HabitPoint = {
  habit: HabitId;
  /** The wrong-but-plausible call, and whether it succeeds when run. */
  wrong: Call;
  wrongExpect: "ok" | "fail";
  values: Record<string, string>;
  /** Adds the right behaviour from this point. */
  right(): void;
  /** After an approved habit call: whatever must follow (a recovery), if anything. */
  afterApproved(correction: string): void;
};

/**
 * Runs one decision point. Returns what happened, so a caller can skip steps an approved habit
 * made unnecessary.
 */
export function decideHabit(ctx: HabitContext, b: PlanBuilder, point: HabitPoint): "right" | "habit" | "teacher" {
  const def = HABITS[point.habit];
  const correction = () => fillCorrection(ctx.rng.pick(def.corrections), point.values);
  if (b.decided.has(point.habit)) {
    point.right();
    return "right";
  }
  b.decided.add(point.habit);
  if (ctx.rng.chance(ctx.config.teacherShare)) {
    b.habits.push({ habit: point.habit, decision: "teacher", followUp: null, values: point.values });
    // A wrong call that fails can reach the teacher as a failure: its output then goes in too.
    b.reprompt(correction(), point.wrongExpect === "fail" && ctx.rng.chance(0.5) ? point.wrong : undefined);
    point.right();
    return "teacher";
  }
  if (!ctx.schedule.next(point.habit)) {
    b.habits.push({ habit: point.habit, decision: "right", followUp: null, values: point.values });
    point.right();
    return "right";
  }
  if (ctx.rng.chance(ctx.config.denyShare)) {
    b.habits.push({ habit: point.habit, decision: "habit", followUp: "denied", values: point.values });
    b.deny(point.wrong, correction());
    point.right();
  } else {
    b.habits.push({ habit: point.habit, decision: "habit", followUp: "approved", values: point.values });
    b.call(point.wrong, point.wrongExpect);
    point.afterApproved(correction());
  }
  return "habit";
}
