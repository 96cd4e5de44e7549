/**
 * Every setting of continualcode as one table: the original product's flags plus ours. Each entry
 * carries its value schema, default, the group and label people see, a plain one-line
 * description, its unit, whether a user may override it, and its input kind; the flag name
 * (`--max-tokens`) and environment variable (`CONTINUALCODE_MAX_TOKENS`) are derived from the key,
 * and its range from the schema. CLI help, the README table, the flag and environment readers and
 * the settings page are all generated from this table, so a new setting is one entry here, and the
 * compiler refuses an entry without its group, label, description or unit.
 */
import { z } from "zod";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { TEACHER_MODES } from "@/lib/training/types";

/** How a value is read from text (a flag or an environment variable) and shown in a form. */
export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum";

/** The settings page's sections, in the order it shows them. */
export const SETTING_GROUPS = ["Model", "Sampling", "Training", "SDPO", "Review", "Sandbox", "Server"] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** What a number counts; null for values that are a plain number, text, a choice or a switch. */
export type SettingUnit =
  | "tokens"
  | "seconds"
  | "training steps"
  | "versions"
  | "tool calls"
  | "MiB"
  | "processes"
  | "threads";

type FieldSpec<S extends z.ZodType> = {
  group: SettingGroup;
  /** What people call it on the settings page ("Reply length limit"); the flag is for operators. */
  label: string;
  /** One plain sentence: what it changes, for someone who has never seen the flag. */
  description: string;
  unit: SettingUnit | null;
  kind: FieldKind;
  /** Validates a value already converted from text (a number for "number", …); its bounds are the range shown. */
  schema: S;
  default: z.output<S>;
  /** What an unset value means ("auto", "the agent itself"); only for settings that may be unset. */
  whenUnset?: string;
  /** May a user override it in their settings (stored per user, applied to their sessions)? */
  perUser: boolean;
  /** Never sent to the browser or logged. */
  secret?: boolean;
  /** Other environment variables read, after CONTINUALCODE_<KEY>, in order (the original's names). */
  envAliases?: readonly string[];
  choices?: readonly string[];
  /** A form's number input step. */
  step?: number;
};

function field<S extends z.ZodType>(spec: FieldSpec<S>): FieldSpec<S> {
  return spec;
}

const optionalText = z.string().min(1, "must not be empty").optional();
const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Teacher modes are the training contract's (backends declare which they support); re-exported for the table's readers. */
export { TEACHER_MODES };
/** SDPO's losses: per-token advantages, the full-vocabulary KL, or its top-k approximation (lib/sdpo/config.ts's LossMode). */
export const LOSS_MODES = ["token", "full_kl", "topk_kl"] as const;
/** What the guard does with a step that forgets approved behaviour: flag it, or undo it. */
export const GUARD_ACTIONS = ["warn", "reject"] as const;

export const FIELDS = {
  // --- Model and backend (the original's flags) -------------------------------------------
  model: field({
    group: "Model",
    label: "Base model",
    description:
      "The model the agent runs and trains: the bundled one, a local Hugging Face Qwen3 directory, or a Tinker model name",
    unit: null,
    kind: "string",
    schema: z.string().min(1, "must not be empty"),
    default: EMBEDDED_MODEL,
    perUser: true,
  }),
  checkpoint: field({
    group: "Model",
    label: "Starting weights",
    description: "A saved LoRA adapter to start from (a directory or a tinker:// path) instead of the latest one",
    unit: null,
    kind: "string",
    schema: optionalText,
    default: undefined,
    whenUnset: "the latest saved",
    perUser: true,
  }),
  tinkerUrl: field({
    group: "Model",
    label: "Training server",
    description:
      "Address of a Tinker training server (or any server that speaks its API); set, the model runs and trains there",
    unit: null,
    kind: "string",
    schema: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    default: undefined,
    whenUnset: "this machine",
    perUser: false,
    envAliases: ["TINKER_BASE_URL"],
  }),
  tinkerApiKey: field({
    group: "Model",
    label: "Training server key",
    description: "The API key for the Tinker training server; never shown",
    unit: null,
    kind: "string",
    schema: optionalText,
    default: undefined,
    perUser: false,
    secret: true,
    envAliases: ["TINKER_API_KEY"],
  }),

  // --- Sampling ---------------------------------------------------------------------------
  maxTokens: field({
    group: "Sampling",
    label: "Reply length limit",
    description:
      "The longest reply the agent may write; auto: whatever the model's context leaves after the conversation (at least half of it)",
    unit: "tokens",
    kind: "integer",
    // Unset by default: a fixed number would exceed a small model's context (the bundled one holds 4,096).
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(131072, "must be at most 131072")
      .optional(),
    default: undefined,
    whenUnset: "auto",
    perUser: true,
    step: 1,
  }),
  temperature: field({
    group: "Sampling",
    label: "Temperature",
    description:
      "How much the agent's choices vary: 0 always takes its likeliest next token, higher values explore more",
    unit: null,
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(2, "must be at most 2"),
    default: 0.7,
    perUser: true,
    step: 0.05,
  }),

  // --- Training -----------------------------------------------------------------------------
  training: field({
    group: "Training",
    label: "Learn from corrections",
    description: "Update the agent's weights when you correct it; off, it only answers",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    perUser: true,
  }),
  enableRl: field({
    group: "Training",
    label: "Learn from approvals too",
    description: "Also reward approved calls (+1) and penalise denied ones (−1), against a running average",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    perUser: true,
  }),
  loraRank: field({
    group: "Training",
    label: "Adapter size (LoRA rank)",
    description: "How much the trainable adapter can hold: larger learns more and needs more memory",
    unit: null,
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(256, "must be at most 256")
      .refine(isPowerOfTwo, "must be a power of two (1, 2, 4 … 256)"),
    default: 32,
    perUser: true,
    choices: ["1", "2", "4", "8", "16", "32", "64", "128", "256"],
  }),
  learningRate: field({
    group: "Training",
    label: "Learning rate",
    description: "How far each update moves the weights (Adam); too high forgets what it knew, too low learns nothing",
    unit: null,
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(1, "must be at most 1"),
    default: 1e-5,
    perUser: true,
    step: 1e-6,
  }),
  saveEvery: field({
    group: "Training",
    label: "Save a checkpoint every",
    description: "Keep a checkpoint every this many training steps (0: only when you save one)",
    unit: "training steps",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(0, "must be at least 0"),
    default: 0,
    perUser: true,
    step: 1,
  }),
  keepVersions: field({
    group: "Training",
    label: "Recent versions to keep",
    description:
      "Keep the weights of this many newest adapter versions (each training step, undo, restore or reset makes one), so you can undo or restore them; older ones stay on the timeline without weights unless --save-every kept them",
    unit: "versions",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(1, "must be at least 1").max(1000, "must be at most 1000"),
    default: 10,
    perUser: true,
    step: 1,
  }),

  // --- SDPO ---------------------------------------------------------------------------------
  sdpo: field({
    group: "SDPO",
    label: "Learn from denials and edits",
    description: "Train one SDPO step on each denial or edit; off, only the approval signal (when on) trains",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    perUser: true,
  }),
  teacherMode: field({
    group: "SDPO",
    label: "Teacher",
    description:
      "Who the agent learns from: its current self (student), a slow average of itself (ema), or a copy refreshed every few steps (frozen)",
    unit: null,
    kind: "enum",
    schema: z.enum(TEACHER_MODES, { error: `must be one of ${TEACHER_MODES.join(", ")}` }),
    default: "student",
    perUser: true,
    choices: TEACHER_MODES,
  }),
  teacherModel: field({
    group: "SDPO",
    label: "Teacher model",
    description: "A different model to learn from when you correct the agent",
    unit: null,
    kind: "string",
    schema: optionalText,
    default: undefined,
    whenUnset: "the agent itself",
    perUser: true,
  }),
  teacherCheckpoint: field({
    group: "SDPO",
    label: "Teacher weights",
    description: "A saved checkpoint for the teacher (a directory or a tinker:// path)",
    unit: null,
    kind: "string",
    schema: optionalText,
    default: undefined,
    whenUnset: "the teacher's current weights",
    perUser: true,
  }),
  klCoef: field({
    group: "SDPO",
    label: "Correction strength",
    description: "Scales how hard each correction pulls the agent towards the teacher (the KL coefficient)",
    unit: null,
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(100, "must be at most 100"),
    default: 1.0,
    perUser: true,
    step: 0.1,
  }),
  isClip: field({
    group: "SDPO",
    label: "Update clip",
    description:
      "Caps how many times likelier or less likely one step may make a sampled token (the importance-sampling ratio)",
    unit: null,
    kind: "number",
    schema: z.number().gt(1, "must be greater than 1").max(100, "must be at most 100"),
    default: 2.0,
    perUser: true,
    step: 0.1,
  }),
  emaTau: field({
    group: "SDPO",
    label: "Average teacher's pace",
    description: "For the ema teacher: the share of each new step it takes in",
    unit: null,
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(1, "must be at most 1"),
    default: 0.05,
    perUser: true,
    step: 0.01,
  }),
  teacherRefreshEvery: field({
    group: "SDPO",
    label: "Refresh the frozen teacher every",
    description: "For the frozen teacher: how many training steps it keeps the same weights",
    unit: "training steps",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(1, "must be at least 1"),
    default: 10,
    perUser: true,
    step: 1,
  }),
  rehearsalCalls: field({
    group: "SDPO",
    label: "Approved calls kept per correction",
    description:
      "How many of your most recent approved calls each correction's training step also learns to keep, so a correction does not erase what you already accepted (0: none)",
    unit: "tool calls",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(0, "must be at least 0").max(64, "must be at most 64"),
    default: 0,
    perUser: true,
    step: 1,
  }),
  rehearsalWeight: field({
    group: "SDPO",
    label: "Hold on approved calls",
    description: "How strongly a training step holds on to each kept approved call, per token of the call",
    unit: null,
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(10, "must be at most 10"),
    default: 0.1,
    perUser: true,
    step: 0.05,
  }),
  lossMode: field({
    group: "SDPO",
    label: "Loss",
    description:
      "What a step compares with the teacher: the sampled tokens only (token), or whole next-token distributions (full_kl, topk_kl; embedded backend)",
    unit: null,
    kind: "enum",
    schema: z.enum(LOSS_MODES, { error: `must be one of ${LOSS_MODES.join(", ")}` }),
    default: "token",
    perUser: true,
    choices: LOSS_MODES,
  }),
  probeCount: field({
    group: "SDPO",
    label: "Probes per step",
    description:
      "After each step, replay this many of your recent corrections and as many of your approved calls on the new version, to chart what it kept; 0 turns probes and the guard off",
    unit: "tool calls",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(0, "must be at least 0").max(100, "must be at most 100"),
    default: 8,
    perUser: true,
    step: 1,
  }),
  guardDropPoints: field({
    group: "SDPO",
    label: "Guard: allowed drop in approved behaviour",
    description:
      "Flag a step when the share of your approved calls the agent still proposes falls by more than this many percentage points below its best of the last five steps",
    unit: null,
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(100, "must be at most 100"),
    default: 10,
    perUser: true,
    step: 1,
  }),
  guardAction: field({
    group: "SDPO",
    label: "Guard: on a flagged step",
    description:
      "warn: mark the step on the training panel; reject: also undo it (back to the version before) and tell you",
    unit: null,
    kind: "enum",
    schema: z.enum(GUARD_ACTIONS, { error: `must be one of ${GUARD_ACTIONS.join(", ")}` }),
    default: "warn",
    perUser: true,
    choices: GUARD_ACTIONS,
  }),

  // --- Review ---------------------------------------------------------------------------------
  autoApproveReadonly: field({
    group: "Review",
    label: "Approve reads automatically",
    description: "Run read, glob and grep without asking you first",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    perUser: true,
  }),
  maxSteps: field({
    group: "Review",
    label: "Tool calls per task",
    description: "The most tool calls the agent makes on one task before it stops and waits for you",
    unit: "tool calls",
    kind: "integer",
    schema: z.number().int("must be a whole number").min(1, "must be at least 1").max(1000, "must be at most 1000"),
    default: 50,
    perUser: true,
    step: 1,
  }),

  // --- Sandbox ------------------------------------------------------------------------------
  bashTimeoutSec: field({
    group: "Sandbox",
    label: "Command time limit",
    description: "How long one bash command may run before it is stopped",
    unit: "seconds",
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(600, "must be at most 600"),
    default: 30,
    perUser: false,
  }),
  unsandboxedBash: field({
    group: "Sandbox",
    label: "Run commands unsandboxed",
    description: "Run bash without the bubblewrap sandbox; only for machines where bubblewrap cannot run",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    perUser: false,
  }),
  // Limits for one bash call as a whole (lib/sandbox/cgroup.ts). Defaults: a test run or build of
  // a typical project (node, jest or pytest workers) fits in 2 GiB and well under 256 processes
  // and threads, while one runaway call cannot take a shared server's memory or pid table.
  sandboxMemoryMib: field({
    group: "Sandbox",
    label: "Command memory limit",
    description: "Memory one bash command may use, all its processes together; 0 turns the limit off",
    unit: "MiB",
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(0, "must be at least 0")
      .max(1_048_576, "must be at most 1048576"),
    default: 2048,
    perUser: false,
    step: 256,
  }),
  sandboxMaxProcesses: field({
    group: "Sandbox",
    label: "Command process limit",
    description: "Processes and threads one bash command may run at once, all together",
    unit: "processes",
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(16, "must be at least 16")
      .max(65_536, "must be at most 65536"),
    default: 256,
    perUser: false,
    step: 1,
  }),
  // 2 GiB: this repository's own node_modules is 789 MiB, so a JavaScript project with its
  // dependencies and a build passes 1 GiB; 2 GiB fits it and still bounds each workspace.
  workspaceQuotaMib: field({
    group: "Sandbox",
    label: "Workspace disk quota",
    description:
      "Disk space one workspace may take; writes past it are refused and a command that passes it is stopped; 0 turns the quota off",
    unit: "MiB",
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(0, "must be at least 0")
      .max(16_777_216, "must be at most 16777216"),
    default: 2048,
    perUser: false,
    step: 256,
  }),

  // --- Server -------------------------------------------------------------------------------
  port: field({
    group: "Server",
    label: "Port",
    description: "The HTTP port the server listens on",
    unit: null,
    kind: "integer",
    schema: z.number().int("must be a whole number").min(1, "must be at least 1").max(65535, "must be at most 65535"),
    default: 3000,
    perUser: false,
    envAliases: ["PORT"],
  }),
  engineThreads: field({
    group: "Server",
    label: "Engine threads",
    description:
      "Threads the built-in engine computes on (matrix products and attention are shared among them); results are the same on any number",
    unit: "threads",
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(128, "must be at most 128")
      .optional(),
    default: undefined,
    whenUnset: "one per core",
    perUser: false,
  }),
  dataDir: field({
    group: "Server",
    label: "Data directory",
    description: "Where the built-in database, workspaces and checkpoints are kept",
    unit: null,
    kind: "string",
    schema: z.string().min(1, "must not be empty"),
    default: "./.data",
    perUser: false,
  }),
  trustProxy: field({
    group: "Server",
    label: "Behind a reverse proxy",
    description:
      "Read the client's address (for sign-in limits) from the last X-Forwarded-For entry and its host (for same-origin checks) from X-Forwarded-Host. Only behind a reverse proxy that sets both: without one, any client could choose its own address",
    unit: null,
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    perUser: false,
  }),
};

export type ConfigKey = keyof typeof FIELDS;
export type FieldOf<K extends ConfigKey> = (typeof FIELDS)[K];
export type AnyField = FieldSpec<z.ZodType>;

export const CONFIG_KEYS = Object.keys(FIELDS) as ConfigKey[];

export function fieldOf(key: ConfigKey): AnyField {
  return FIELDS[key] as AnyField;
}

/** `maxTokens` → `--max-tokens`. */
export function flagName(key: ConfigKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `maxTokens` → `CONTINUALCODE_MAX_TOKENS`. */
export function envName(key: ConfigKey): string {
  return `CONTINUALCODE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Every environment variable a key is read from, in the order they are tried. */
export function envNames(key: ConfigKey): string[] {
  return [envName(key), ...(fieldOf(key).envAliases ?? [])];
}

/** A number's bounds as its schema checks them; `exclusive` marks a bound the value must not equal. */
export type Bound = { value: number; exclusive: boolean };
export type Range = { min?: Bound; max?: Bound };

/**
 * The bounds a field's schema enforces, read from the schema itself so the range shown can never
 * drift from the range checked. Unbounded sides (zod's integers stop at MAX_SAFE_INTEGER) are left out.
 */
export function rangeOf(key: ConfigKey): Range | undefined {
  const f = fieldOf(key);
  if (f.kind !== "number" && f.kind !== "integer") return undefined;
  const json = z.toJSONSchema(f.schema, { io: "input", unrepresentable: "any" }) as {
    minimum?: number;
    exclusiveMinimum?: number;
    maximum?: number;
    exclusiveMaximum?: number;
  };
  const bound = (inclusive: number | undefined, exclusive: number | undefined): Bound | undefined => {
    if (exclusive !== undefined) return { value: exclusive, exclusive: true };
    if (inclusive !== undefined && Math.abs(inclusive) < Number.MAX_SAFE_INTEGER)
      return { value: inclusive, exclusive: false };
    return undefined;
  };
  const min = bound(json.minimum, json.exclusiveMinimum);
  const max = bound(json.maximum, json.exclusiveMaximum);
  return { ...(min ? { min } : {}), ...(max ? { max } : {}) };
}

/** The range as people read it: "0 to 2", "more than 0, up to 1", "1 or more", "one of …", "on or off". */
export function rangeText(key: ConfigKey): string | null {
  const f = fieldOf(key);
  if (f.choices) return `one of ${f.choices.join(", ")}`;
  if (f.kind === "boolean") return "on or off";
  const r = rangeOf(key);
  if (!r || (!r.min && !r.max)) return null;
  const n = (v: number) => v.toLocaleString("en-US", { maximumFractionDigits: 10 });
  if (r.min && r.max) {
    if (!r.min.exclusive && !r.max.exclusive) return `${n(r.min.value)} to ${n(r.max.value)}`;
    const low = r.min.exclusive ? `more than ${n(r.min.value)}` : `at least ${n(r.min.value)}`;
    const high = r.max.exclusive ? `less than ${n(r.max.value)}` : `up to ${n(r.max.value)}`;
    return `${low}, ${high}`;
  }
  if (r.min) return r.min.exclusive ? `more than ${n(r.min.value)}` : `${n(r.min.value)} or more`;
  return r.max!.exclusive ? `less than ${n(r.max!.value)}` : `up to ${n(r.max!.value)}`;
}

/** The table without its schemas, as plain data for the settings page and the help text. */
export type FieldInfo = {
  key: ConfigKey;
  group: SettingGroup;
  label: string;
  flag: string;
  env: string[];
  kind: FieldKind;
  description: string;
  unit: SettingUnit | null;
  /** The range as text, or null where any value of the kind goes (text fields). */
  range: string | null;
  default: unknown;
  whenUnset?: string;
  perUser: boolean;
  secret: boolean;
  choices?: readonly string[];
  min?: number;
  max?: number;
  step?: number;
};

export function fieldInfo(): FieldInfo[] {
  return CONFIG_KEYS.map((key) => {
    const f = fieldOf(key);
    const r = rangeOf(key);
    return {
      key,
      group: f.group,
      label: f.label,
      flag: flagName(key),
      env: envNames(key),
      kind: f.kind,
      description: f.description,
      unit: f.unit,
      range: rangeText(key),
      default: f.default,
      ...(f.whenUnset !== undefined ? { whenUnset: f.whenUnset } : {}),
      perUser: f.perUser,
      secret: f.secret ?? false,
      ...(f.choices ? { choices: f.choices } : {}),
      ...(r?.min ? { min: r.min.value } : {}),
      ...(r?.max ? { max: r.max.value } : {}),
      ...(f.step !== undefined ? { step: f.step } : {}),
    };
  });
}

/** The fields of each group, in group order then table order (the settings page's sections). */
export function fieldsByGroup(fields: FieldInfo[] = fieldInfo()): Array<{ group: SettingGroup; fields: FieldInfo[] }> {
  return SETTING_GROUPS.map((group) => ({ group, fields: fields.filter((f) => f.group === group) })).filter(
    (g) => g.fields.length > 0,
  );
}
