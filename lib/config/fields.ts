/**
 * Every setting of continualcode as one table: the original product's flags plus ours. Each entry
 * carries its value schema, default, description, whether a user may override it, and its input
 * kind; the flag name (`--max-tokens`) and environment variable (`CONTINUALCODE_MAX_TOKENS`) are
 * derived from the key. CLI help, the flag and environment readers and the settings page are all
 * generated from this table, so a new setting is one entry here.
 */
import { z } from "zod";

/** How a value is read from text (a flag or an environment variable) and shown in a form. */
export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum";

type FieldSpec<S extends z.ZodType> = {
  kind: FieldKind;
  /** Validates a value already converted from text (a number for "number", …). */
  schema: S;
  default: z.output<S>;
  description: string;
  /** May a user override it in their settings (stored per user, applied to their sessions)? */
  perUser: boolean;
  /** Never sent to the browser or logged. */
  secret?: boolean;
  /** Other environment variables read, after CONTINUALCODE_<KEY>, in order (the original's names). */
  envAliases?: readonly string[];
  choices?: readonly string[];
  /** For a form's number input. */
  min?: number;
  max?: number;
  step?: number;
};

function field<S extends z.ZodType>(spec: FieldSpec<S>): FieldSpec<S> {
  return spec;
}

const optionalText = z.string().min(1, "must not be empty").optional();
const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

export const TEACHER_MODES = ["student", "ema", "frozen"] as const;
export const LOSS_MODES = ["token", "full_kl", "topk_kl"] as const;

export const FIELDS = {
  // --- Model and backend (the original's flags) -------------------------------------------
  model: field({
    kind: "string",
    schema: z.string().min(1, "must not be empty"),
    default: "continualcode/qwen3-tiny-coder",
    description: "Base model: the embedded one, a local Hugging Face Qwen3 directory, or a Tinker model name",
    perUser: true,
  }),
  checkpoint: field({
    kind: "string",
    schema: optionalText,
    default: undefined,
    description: "LoRA checkpoint to start from (a directory or a tinker:// path)",
    perUser: true,
  }),
  teacherModel: field({
    kind: "string",
    schema: optionalText,
    default: undefined,
    description: "Teacher model for SDPO (default: the student itself)",
    perUser: true,
  }),
  teacherCheckpoint: field({
    kind: "string",
    schema: optionalText,
    default: undefined,
    description: "Teacher checkpoint for SDPO",
    perUser: true,
  }),
  tinkerUrl: field({
    kind: "string",
    schema: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
    default: undefined,
    description: "Tinker API URL, or any server that speaks its API (selects the tinker backend)",
    perUser: false,
    envAliases: ["TINKER_BASE_URL"],
  }),
  tinkerApiKey: field({
    kind: "string",
    schema: optionalText,
    default: undefined,
    description: "Tinker API key",
    perUser: false,
    secret: true,
    envAliases: ["TINKER_API_KEY"],
  }),

  // --- Sampling ---------------------------------------------------------------------------
  maxTokens: field({
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(131072, "must be at most 131072"),
    default: 4096,
    description: "Max generation tokens per assistant message",
    perUser: true,
    min: 1,
    max: 131072,
    step: 1,
  }),
  temperature: field({
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(2, "must be at most 2"),
    default: 0.7,
    description: "Sampling temperature",
    perUser: true,
    min: 0,
    max: 2,
    step: 0.05,
  }),

  // --- Training -----------------------------------------------------------------------------
  training: field({
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    description: "Train on corrections (--no-training: inference only)",
    perUser: true,
  }),
  sdpo: field({
    kind: "boolean",
    schema: z.boolean(),
    default: true,
    description: "SDPO updates on denials and edits (--no-sdpo disables them)",
    perUser: true,
  }),
  enableRl: field({
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    description: "Add an RL signal: approved calls +1, denied −1, against a running baseline",
    perUser: true,
  }),
  loraRank: field({
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(256, "must be at most 256")
      .refine(isPowerOfTwo, "must be a power of two (1, 2, 4 … 256)"),
    default: 32,
    description: "LoRA rank",
    perUser: true,
    choices: ["1", "2", "4", "8", "16", "32", "64", "128", "256"],
  }),
  learningRate: field({
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(1, "must be at most 1"),
    default: 1e-5,
    description: "Learning rate (Adam)",
    perUser: true,
    min: 0,
    max: 1,
    step: 1e-6,
  }),
  klCoef: field({
    kind: "number",
    schema: z.number().min(0, "must be at least 0").max(100, "must be at most 100"),
    default: 1.0,
    description: "KL coefficient: scales the per-token SDPO advantage",
    perUser: true,
    min: 0,
    max: 100,
    step: 0.1,
  }),
  isClip: field({
    kind: "number",
    schema: z.number().gt(1, "must be greater than 1").max(100, "must be at most 100"),
    default: 2.0,
    description: "Importance-sampling ratio clip",
    perUser: true,
    min: 1,
    max: 100,
    step: 0.1,
  }),
  teacherMode: field({
    kind: "enum",
    schema: z.enum(TEACHER_MODES, { error: `must be one of ${TEACHER_MODES.join(", ")}` }),
    default: "student",
    description: "SDPO teacher: the current student, an EMA of it, or a frozen copy refreshed every K steps",
    perUser: true,
    choices: TEACHER_MODES,
  }),
  emaTau: field({
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(1, "must be at most 1"),
    default: 0.05,
    description: "EMA teacher update rate (teacher-mode ema)",
    perUser: true,
    min: 0,
    max: 1,
    step: 0.01,
  }),
  teacherRefreshEvery: field({
    kind: "integer",
    schema: z.number().int("must be a whole number").min(1, "must be at least 1"),
    default: 10,
    description: "Refresh the frozen teacher every K steps (teacher-mode frozen)",
    perUser: true,
    min: 1,
    step: 1,
  }),
  lossMode: field({
    kind: "enum",
    schema: z.enum(LOSS_MODES, { error: `must be one of ${LOSS_MODES.join(", ")}` }),
    default: "token",
    description:
      "SDPO loss: per-token importance sampling, or full-vocabulary / top-k reverse KL (embedded backend)",
    perUser: true,
    choices: LOSS_MODES,
  }),
  saveEvery: field({
    kind: "integer",
    schema: z.number().int("must be a whole number").min(0, "must be at least 0"),
    default: 0,
    description: "Save a checkpoint every N training steps (0: off)",
    perUser: true,
    min: 0,
    step: 1,
  }),

  // --- Agent and sandbox --------------------------------------------------------------------
  autoApproveReadonly: field({
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    description: "Auto-approve read/glob/grep",
    perUser: true,
  }),
  maxSteps: field({
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(1000, "must be at most 1000"),
    default: 50,
    description: "Max agent steps (tool calls) per task",
    perUser: true,
    min: 1,
    max: 1000,
    step: 1,
  }),
  bashTimeoutSec: field({
    kind: "number",
    schema: z.number().gt(0, "must be greater than 0").max(600, "must be at most 600"),
    default: 30,
    description: "Time limit for one bash command, in seconds",
    perUser: false,
  }),
  unsandboxedBash: field({
    kind: "boolean",
    schema: z.boolean(),
    default: false,
    description: "Run bash without the bubblewrap sandbox (only where bubblewrap cannot run)",
    perUser: false,
  }),

  // --- Server -------------------------------------------------------------------------------
  port: field({
    kind: "integer",
    schema: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(65535, "must be at most 65535"),
    default: 3000,
    description: "HTTP port",
    perUser: false,
    envAliases: ["PORT"],
  }),
  dataDir: field({
    kind: "string",
    schema: z.string().min(1, "must not be empty"),
    default: "./.data",
    description: "Data directory (PGlite database, workspaces, checkpoints)",
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

/** The table without its schemas, as plain data for the settings page and the help text. */
export type FieldInfo = {
  key: ConfigKey;
  flag: string;
  env: string[];
  kind: FieldKind;
  description: string;
  default: unknown;
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
    return {
      key,
      flag: flagName(key),
      env: envNames(key),
      kind: f.kind,
      description: f.description,
      default: f.default,
      perUser: f.perUser,
      secret: f.secret ?? false,
      ...(f.choices ? { choices: f.choices } : {}),
      ...(f.min !== undefined ? { min: f.min } : {}),
      ...(f.max !== undefined ? { max: f.max } : {}),
      ...(f.step !== undefined ? { step: f.step } : {}),
    };
  });
}
