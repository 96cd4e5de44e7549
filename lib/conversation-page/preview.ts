/**
 * What a proposed write / edit / edit_lines would leave in the file, computed from the file's
 * current text with the tools' own rules (line-number prefix stripping and CRLF matching for edit;
 * line terminators, appending and the missing final newline for edit_lines), so the diff a person
 * approves is exactly what the tool writes. Also the reverse: the arguments that make the same
 * tool write an edited text, checked by previewing them, so approving an edit applies exactly the
 * bytes shown. Pure: the caller reads the file (through the sandbox's path rules).
 */
import { splitLines } from "@/lib/tools/limits";
import { applyEdit, applyEditLines } from "@/lib/tools/text-edits";

export type Preview = { ok: true; after: string; note?: string } | { ok: false; error: string };

export type DiffToolName = "write" | "edit" | "edit_lines";
export const DIFF_TOOLS: ReadonlySet<string> = new Set<DiffToolName>(["write", "edit", "edit_lines"]);

export function isDiffTool(name: string): name is DiffToolName {
  return DIFF_TOOLS.has(name);
}

const str = (v: unknown) => (typeof v === "string" ? v : null);
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : null);

/** write: the content, whatever was there (`before` is null for a new file). */
export function previewWrite(args: Record<string, unknown>): Preview {
  const content = str(args.content);
  if (content === null) return { ok: false, error: "content must be a string" };
  return { ok: true, after: content };
}

/** edit: `old` replaced by `new` as the edit tool replaces it (once, or everywhere with all). */
export function previewEdit(text: string, args: Record<string, unknown>): Preview {
  const oldText = str(args.old);
  const newText = str(args.new);
  if (oldText === null || newText === null) return { ok: false, error: "old and new must be strings" };
  const edited = applyEdit(text, oldText, newText, args.all === true);
  if (edited.ok)
    return edited.strippedPrefixes
      ? { ok: true, after: edited.text, note: "line-number prefixes were stripped from old/new" }
      : { ok: true, after: edited.text };
  switch (edited.reason) {
    case "empty_old":
      return { ok: false, error: "old must not be empty" };
    case "not_found":
      return { ok: false, error: "old is not in the file: the tool will fail" };
    case "ambiguous":
      return { ok: false, error: `old matches ${edited.count} times and all is not set: the tool will fail` };
    case "unchanged":
      return { ok: false, error: "old and new are the same: the tool will fail" };
  }
}

/** edit_lines: lines start..end (1-based, inclusive) replaced by content, as the tool does it. */
export function previewEditLines(text: string, args: Record<string, unknown>): Preview {
  const start = int(args.start_line);
  const end = int(args.end_line);
  const content = str(args.content);
  if (start === null || end === null || content === null)
    return { ok: false, error: "start_line, end_line must be integers and content a string" };
  const edited = applyEditLines(text, start, end, content);
  if (edited.ok) return { ok: true, after: edited.text };
  switch (edited.reason) {
    case "bad_range":
      return { ok: false, error: `bad range ${start}-${end}: the tool will fail` };
    case "start_past_end":
      return { ok: false, error: `start_line ${start} is past the end (${edited.lines} lines): the tool will fail` };
    case "append_range":
    case "end_past_end":
      return { ok: false, error: `end_line ${end} is past the end (${edited.lines} lines): the tool will fail` };
  }
}

/** The file after the call; `before` is the file's text ("" for a file that does not exist yet). */
export function previewAfter(name: DiffToolName, before: string, args: Record<string, unknown>): Preview {
  switch (name) {
    case "write":
      return previewWrite(args);
    case "edit":
      return previewEdit(before, args);
    case "edit_lines":
      return previewEditLines(before, args);
    default: {
      const never: never = name;
      throw new Error(`not a diff tool: ${String(never)}`);
    }
  }
}

/** Why an edited call may not go to `path` instead of the proposed path, or null when it may. */
export function pathChangeRefusal(name: DiffToolName, proposedPath: string, path: string): string | null {
  if (path.trim() === "") return "the path is empty";
  if (path === proposedPath || name === "write") return null;
  return `only a write can go to another path; ${name} changes the file its diff shows (deny with a correction instead)`;
}

export type EditedArgs = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

/**
 * Arguments for the same tool that turn `before` into exactly `edited`: write gets the text as its
 * content; edit replaces the whole file (old = before); edit_lines replaces every line. Each is
 * checked by previewing it, and refused when the tool could not write those bytes exactly.
 * A write may also go to another path (`toPath`; `before` is then that file's text): edit and
 * edit_lines change the file their diff shows, so theirs stays.
 */
export function editedArgsFor(
  name: DiffToolName,
  original: Record<string, unknown>,
  before: string,
  edited: string,
  toPath?: string,
): EditedArgs {
  const proposedPath = str(original.path);
  if (proposedPath === null) return { ok: false, error: "the call has no path" };
  const path = toPath ?? proposedPath;
  const refused = pathChangeRefusal(name, proposedPath, path);
  if (refused) return { ok: false, error: refused };
  let args: Record<string, unknown>;
  switch (name) {
    case "write":
      args = { path, content: edited };
      break;
    case "edit":
      if (before === "")
        return { ok: false, error: "edit cannot change an empty file; deny and ask for a write instead" };
      args = { path, old: before, new: edited };
      break;
    case "edit_lines": {
      const n = splitLines(before).length;
      args =
        n === 0
          ? { path, start_line: 1, end_line: 1, content: edited }
          : { path, start_line: 1, end_line: n, content: edited };
      break;
    }
    default: {
      const never: never = name;
      throw new Error(`not a diff tool: ${String(never)}`);
    }
  }
  const check = previewAfter(name, before, args);
  if (!check.ok) return { ok: false, error: `the edited text cannot be applied with ${name}: ${check.error}` };
  if (check.after !== edited)
    return {
      ok: false,
      error: `${name} cannot write exactly this text (line endings or the final newline differ); adjust it or deny with a correction`,
    };
  return { ok: true, args };
}
