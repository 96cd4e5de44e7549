/**
 * Plans a curriculum's episodes from one seed: picks each episode's family and workspace seed,
 * then lets the family plan it, with one habit schedule across all episodes so each habit's
 * rate is exact over every block of decisions. Workspace seeds of training episodes stay below
 * HELD_OUT_SEED_BASE; the benchmark's held-out workspaces use seeds at or above it.
 */
import { FAMILIES } from "./families";
import { DEFAULT_HABIT_CONFIG, HabitSchedule, type HabitConfig } from "./habits";
import { FAMILY_IDS, PlanBuilder, type FamilyId, type Plan } from "./plan";
import { Rng } from "./prng";
import type { StepContext } from "./steps";
import { generateWorkspace, type Workspace } from "./workspace";

/** Workspace seeds from here up are never used for training. */
export const HELD_OUT_SEED_BASE = 2_000_000_000;

export const FAMILY_WEIGHTS: Record<FamilyId, number> = {
  find_file: 1,
  read_edit: 1.2,
  edit_lines: 1,
  write_new: 0.7,
  run_tests: 1,
  fix_failing_test: 2.5,
  rename_symbol: 0.8,
  answer_only: 0.5,
};

export interface PlanOptions {
  seed: number;
  episodes: number;
  habits?: HabitConfig;
  mistakeRate?: number;
  /** How many distinct workspaces the episodes share (fewer: more repeated tool calls to reuse). */
  workspacePool?: number;
  /**
   * The share of workspaces whose names are open (lib/curriculum/names.ts) rather than from the
   * closed lists; default 0, the closed curriculum the benchmark scenarios were written from.
   */
  openNames?: number;
  /** Weights that replace FAMILY_WEIGHTS' for the families named (0 leaves a family out). */
  familyWeights?: Partial<Record<FamilyId, number>>;
}

export interface PlannedEpisode {
  plan: Plan;
  workspace: Workspace;
  /** Every file's text once the plan has run. */
  finalFiles: Map<string, string>;
}

/**
 * `fix_failing_test=6,answer_only=0.2`: weights for some families, as the curriculum command
 * takes them; an unknown family or a weight that is not a number ≥ 0 is an error.
 */
export function parseFamilyWeights(text: string): Partial<Record<FamilyId, number>> {
  const weights: Partial<Record<FamilyId, number>> = {};
  for (const part of text.split(",")) {
    const [name, value] = part.split("=").map((s) => s.trim());
    const family = FAMILY_IDS.find((f) => f === name);
    if (!family) throw new Error(`unknown family "${name}" (families: ${FAMILY_IDS.join(", ")})`);
    const weight = Number(value);
    if (value === undefined || value === "" || !Number.isFinite(weight) || weight < 0)
      throw new Error(`the weight of ${family} must be a number ≥ 0, not "${value ?? ""}"`);
    weights[family] = weight;
  }
  return weights;
}

function pickFamily(rng: Rng, weights: Record<FamilyId, number>): FamilyId {
  const total = FAMILY_IDS.reduce((s, f) => s + weights[f], 0);
  let x = rng.next() * total;
  for (const f of FAMILY_IDS) {
    x -= weights[f];
    if (x < 0) return f;
  }
  return FAMILY_IDS.findLast((f) => weights[f] > 0)!;
}

/** Plans one episode on a given workspace (the benchmark uses this with held-out seeds). */
export function planEpisode(ctx: StepContext, family: FamilyId, workspace: Workspace): PlannedEpisode {
  const b = new PlanBuilder(workspace);
  const task = FAMILIES[family].plan(ctx, b);
  const plan: Plan = {
    family,
    workspaceSeed: workspace.seed,
    task,
    steps: b.steps,
    habits: b.habits,
    mistakes: b.mistakes,
  };
  return { plan, workspace, finalFiles: b.files };
}

export function planEpisodes(options: PlanOptions): PlannedEpisode[] {
  const rng = new Rng(options.seed);
  const config = options.habits ?? DEFAULT_HABIT_CONFIG;
  const ctx: StepContext = {
    rng: rng.fork("steps"),
    schedule: new HabitSchedule(rng.fork("habits"), config),
    config,
    mistakeRate: options.mistakeRate ?? 0.08,
  };
  const weights = { ...FAMILY_WEIGHTS, ...options.familyWeights };
  if (FAMILY_IDS.every((f) => weights[f] === 0))
    throw new Error("every family's weight is 0: no episode can be planned");
  const pick = rng.fork("episodes");
  const poolRng = rng.fork("workspaces");
  const poolSize = options.workspacePool ?? Math.max(1, Math.ceil(options.episodes / 10));
  const openShare = options.openNames ?? 0;
  // A separate stream decides open or closed, so the closed curriculum's seeds stay as they were.
  const namesRng = rng.fork("names");
  const pool = Array.from({ length: poolSize }, () =>
    generateWorkspace(
      poolRng.int(0, HELD_OUT_SEED_BASE - 1),
      openShare > 0 && namesRng.chance(openShare) ? "open" : "closed",
    ),
  );
  const out: PlannedEpisode[] = [];
  for (let i = 0; i < options.episodes; i++) {
    const family = pickFamily(pick, weights);
    let workspace: Workspace;
    do workspace = pick.pick(pool);
    while (!FAMILIES[family].applicable(workspace));
    out.push(planEpisode(ctx, family, workspace));
  }
  return out;
}
