/**
 * An episode's plan: the task, then the steps the transcript will hold (tool calls with the
 * outcome they must have, denials with their correction, user corrections after a failure, the
 * teacher-shaped reprompt, the final answer), plus records of every habit decision taken. The
 * builder tracks the workspace's file texts as the planned calls change them, so later steps
 * (line numbers, whole-file writes) are computed against the state they will really meet; the
 * runner checks the final state against the disk.
 */
import type { ToolName } from "@/lib/tools/names";
import type { Workspace } from "./workspace";

export type Call = { name: ToolName; arguments: Record<string, unknown> };

/** Where a failure's correction comes from: the tool's own feedback (the default the UI offers) or typed text. */
export type CorrectionSource = { kind: "tool_feedback" } | { kind: "text"; text: string };

export type PlanStep =
  | { kind: "call"; call: Call; expect: "ok" | "fail" }
  | { kind: "deny"; call: Call; correction: string }
  | { kind: "fail_correction"; correction: CorrectionSource }
  /** `environmentOf`: a failing call whose output the teacher context shows as environment feedback. */
  | { kind: "reprompt"; correction: string; environmentOf?: Call }
  | { kind: "answer"; text: string };

export type HabitId = "write_instead_of_edit" | "edit_without_read" | "wrong_test_command";

/** One habit decision point: what the base policy did and what followed. */
export type HabitRecord = {
  habit: HabitId;
  /** "habit"/"right": a decision without any correction in context; "teacher": the right call after a reprompt. */
  decision: "habit" | "right" | "teacher";
  followUp: "denied" | "approved" | null;
  /** What the correction's placeholders stand for here ({path}, {tool}, {command}, {wrong}). */
  values: Record<string, string>;
};

export type MistakeId = "read_wrong_path" | "edit_old_mismatch" | "read_test_not_module";

export interface Plan {
  family: FamilyId;
  workspaceSeed: number;
  task: string;
  steps: PlanStep[];
  habits: HabitRecord[];
  mistakes: MistakeId[];
}

export const FAMILY_IDS = [
  "find_file",
  "read_edit",
  "edit_lines",
  "write_new",
  "run_tests",
  "fix_failing_test",
  "rename_symbol",
  "answer_only",
] as const;
export type FamilyId = (typeof FAMILY_IDS)[number];

export class PlanBuilder {
  readonly steps: PlanStep[] = [];
  readonly habits: HabitRecord[] = [];
  readonly mistakes: MistakeId[] = [];
  /** Habits already decided in this episode: only the first point of each is a decision. */
  readonly decided = new Set<HabitId>();
  readonly files: Map<string, string>;

  constructor(readonly ws: Workspace) {
    this.files = new Map(Object.entries(ws.files));
  }

  text(path: string): string {
    const text = this.files.get(path);
    if (text === undefined) throw new Error(`plan refers to missing file ${path}`);
    return text;
  }

  lineCount(path: string): number {
    return this.text(path).split("\n").length - 1;
  }

  /** Adds a call and applies its effect on the tracked files. */
  call(call: Call, expect: "ok" | "fail" = "ok"): this {
    this.steps.push({ kind: "call", call, expect });
    if (expect === "ok") this.apply(call);
    return this;
  }

  deny(call: Call, correction: string): this {
    this.steps.push({ kind: "deny", call, correction });
    return this;
  }

  failCorrection(correction: CorrectionSource): this {
    this.steps.push({ kind: "fail_correction", correction });
    return this;
  }

  reprompt(correction: string, environmentOf?: Call): this {
    this.steps.push(environmentOf ? { kind: "reprompt", correction, environmentOf } : { kind: "reprompt", correction });
    return this;
  }

  answer(text: string): this {
    this.steps.push({ kind: "answer", text });
    return this;
  }

  /** The file text after a (planned) edit of `old` → `new`. */
  afterEdit(path: string, old: string, replacement: string, all = false): string {
    const text = this.text(path);
    const count = text.split(old).length - 1;
    if (count === 0 || (count > 1 && !all)) throw new Error(`planned edit of ${path} does not match uniquely: ${old}`);
    return all ? text.split(old).join(replacement) : text.replace(old, () => replacement);
  }

  /** The file text after replacing lines start..end (1-based) with `content` (edit_lines semantics for LF files). */
  afterLines(path: string, start: number, end: number, content: string): string {
    const lines = this.text(path).split("\n").slice(0, -1);
    const replacement = content === "" ? [] : content.replace(/\n$/, "").split("\n");
    return [
      ...lines.slice(0, start - 1),
      ...replacement,
      ...lines.slice(start === lines.length + 1 ? lines.length : end),
    ]
      .map((l) => `${l}\n`)
      .join("");
  }

  private apply(call: Call): void {
    const a = call.arguments as Record<string, never>;
    switch (call.name) {
      case "write":
        this.files.set(a.path, a.content);
        break;
      case "edit":
        this.files.set(a.path, this.afterEdit(a.path, a.old, a.new, a.all ?? false));
        break;
      case "edit_lines":
        this.files.set(a.path, this.afterLines(a.path, a.start_line, a.end_line, a.content));
        break;
      case "read":
      case "glob":
      case "grep":
      case "bash":
        break;
      default: {
        const never: never = call.name;
        throw new Error(`unknown tool ${String(never)}`);
      }
    }
  }
}
