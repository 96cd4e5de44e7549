/**
 * The steps task families share, each with its habit decision points and recoverable mistakes
 * built in: reading a file (sometimes first at a wrong path, then recovering with glob), reading
 * then changing a file (edit_without_read, write_instead_of_edit; sometimes an edit whose `old`
 * does not match, then recovering), and running the tests (wrong_test_command).
 */
import { decideHabit, type HabitContext } from "./habits";
import type { Call, MistakeId, PlanBuilder } from "./plan";

export interface StepContext extends HabitContext {
  /** Chance of each recoverable mistake where it can happen. */
  mistakeRate: number;
}

export type Change =
  | { tool: "edit"; old: string; new: string; all?: boolean }
  | { tool: "edit_lines"; start: number; end: number; content: string };

const read = (path: string): Call => ({ name: "read", arguments: { path } });

export function changeCall(path: string, change: Change): Call {
  switch (change.tool) {
    case "edit":
      return {
        name: "edit",
        arguments: change.all
          ? { path, old: change.old, new: change.new, all: true }
          : { path, old: change.old, new: change.new },
      };
    case "edit_lines":
      return {
        name: "edit_lines",
        arguments: { path, start_line: change.start, end_line: change.end, content: change.content },
      };
    default: {
      const never: never = change;
      throw new Error(`unknown change ${JSON.stringify(never)}`);
    }
  }
}

function contentAfter(b: PlanBuilder, path: string, change: Change): string {
  return change.tool === "edit"
    ? b.afterEdit(path, change.old, change.new, change.all)
    : b.afterLines(path, change.start, change.end, change.content);
}

function mistake(ctx: StepContext, b: PlanBuilder, id: MistakeId): boolean {
  if (!ctx.rng.chance(ctx.mistakeRate)) return false;
  b.mistakes.push(id);
  return true;
}

/** A plausible wrong location for a file: its name at the root, or under src/. */
function wrongPathFor(path: string): string {
  const name = path.split("/").pop()!;
  return name === path ? `src/${path}` : name;
}

export function readStep(ctx: StepContext, b: PlanBuilder, path: string): void {
  if (mistake(ctx, b, "read_wrong_path")) {
    const name = path.split("/").pop()!;
    b.call(read(wrongPathFor(path)), "fail");
    b.failCorrection(
      ctx.rng.chance(0.5)
        ? { kind: "tool_feedback" }
        : {
            kind: "text",
            text: ctx.rng.pick([
              `That file isn't there. Find ${name} with glob.`,
              "Wrong path. Use glob to find the file first.",
            ]),
          },
    );
    b.call({ name: "glob", arguments: { pat: `**/${name}` } });
  }
  b.call(read(path));
}

/** The change itself, where write_instead_of_edit is decided; assumes the file was read. */
export function changeStep(ctx: StepContext, b: PlanBuilder, path: string, change: Change): void {
  decideHabit(ctx, b, {
    habit: "write_instead_of_edit",
    wrong: { name: "write", arguments: { path, content: contentAfter(b, path, change) } },
    wrongExpect: "ok",
    values: { path, tool: change.tool },
    right: () => {
      if (change.tool === "edit" && / \S /.test(change.old) && mistake(ctx, b, "edit_old_mismatch")) {
        const badOld = change.old.replace(/ (\S) /, "$1");
        b.call({ name: "edit", arguments: { path, old: badOld, new: change.new } }, "fail");
        b.failCorrection(
          ctx.rng.chance(0.5)
            ? { kind: "tool_feedback" }
            : { kind: "text", text: "old must match the file exactly. Copy the text from the read output." },
        );
      }
      b.call(changeCall(path, change));
    },
    afterApproved: () => {},
  });
}

/** Read, then change: where edit_without_read is decided (its wrong call is the change, unread). */
export function readThenChange(ctx: StepContext, b: PlanBuilder, path: string, change: Change): void {
  decideHabit(ctx, b, {
    habit: "edit_without_read",
    wrong: changeCall(path, change),
    wrongExpect: "ok",
    values: { path },
    right: () => {
      readStep(ctx, b, path);
      changeStep(ctx, b, path, change);
    },
    afterApproved: () => {},
  });
}

/** Whether the tests pass in the planned state: only the workspace's bug can fail them. */
export function testsPass(b: PlanBuilder): boolean {
  const bug = b.ws.bug;
  if (!bug) return true;
  const text = b.files.get(bug.module.path);
  return text === undefined || !text.includes(bug.fn.returnText);
}

const README = "README.md";

/** Reads the README, where a project says how it runs its tests (the example's task begins so). */
export function readReadme(b: PlanBuilder): void {
  b.call({ name: "read", arguments: { path: README } });
}

/** Whether the plan has read the README already. */
function readmeRead(b: PlanBuilder): boolean {
  return b.steps.some((s) => s.kind === "call" && s.call.name === "read" && s.call.arguments.path === README);
}

/**
 * Runs the workspace's tests. An open workspace's command is one of many (workspace.ts), so its
 * README is read first where the episode has not read it yet: the command is copied, not guessed.
 */
export function runTests(ctx: StepContext, b: PlanBuilder): boolean {
  const { testCommand, wrongTestCommand } = b.ws;
  if (b.ws.names === "open" && !readmeRead(b)) readReadme(b);
  const pass = testsPass(b);
  const right = () => void b.call({ name: "bash", arguments: { cmd: testCommand } }, pass ? "ok" : "fail");
  decideHabit(ctx, b, {
    habit: "wrong_test_command",
    wrong: { name: "bash", arguments: { cmd: wrongTestCommand } },
    wrongExpect: "fail",
    values: { command: testCommand, wrong: wrongTestCommand },
    right,
    afterApproved: (correction) => {
      b.failCorrection({ kind: "text", text: correction });
      right();
    },
  });
  return pass;
}
