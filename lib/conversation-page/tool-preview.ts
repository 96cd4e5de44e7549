/**
 * What a tool-call card shows, computed on the server from the real workspace: for write, edit
 * and edit_lines the file as it is now and as the call would leave it (read through the tools'
 * own sandboxed path resolution, so a path the tool would refuse is refused here too); for bash
 * the command and the working directory the sandbox gives it; for the read-only tools their
 * arguments.
 */
import { readTextFile } from "@/lib/tools/text-file";
import type { ToolContext } from "@/lib/tools/types";
import { editedArgsFor, isDiffTool, pathChangeRefusal, previewAfter, type EditedArgs } from "./preview";

export type CallPreview =
  | {
      kind: "diff";
      tool: "write" | "edit" | "edit_lines";
      path: string;
      before: string;
      after: string;
      newFile: boolean;
      note?: string;
    }
  | { kind: "diff_error"; tool: "write" | "edit" | "edit_lines"; path: string; error: string }
  | { kind: "bash"; cmd: string; cwd: string; timeout: number | null }
  | { kind: "args" };

type Where = { workspacePath: string; sandbox: ToolContext["sandbox"]; cwd: string };

/** The file's current text; "" for a file `write` would create. */
async function currentText(
  where: Where,
  name: string,
  filePath: string,
): Promise<{ ok: true; text: string; newFile: boolean } | { ok: false; error: string }> {
  const loaded = await readTextFile({ workspace: where.workspacePath, sandbox: where.sandbox }, filePath);
  if (loaded.ok) {
    if (!loaded.file.validUtf8) return { ok: false, error: `${filePath} is not valid UTF-8` };
    return { ok: true, text: loaded.file.text, newFile: false };
  }
  if (loaded.missing && name === "write") return { ok: true, text: "", newFile: true };
  return { ok: false, error: loaded.error };
}

export async function previewToolCall(where: Where, name: string, args: Record<string, unknown>): Promise<CallPreview> {
  if (isDiffTool(name)) {
    const filePath = typeof args.path === "string" ? args.path : "";
    const current = await currentText(where, name, filePath);
    if (!current.ok) return { kind: "diff_error", tool: name, path: filePath, error: current.error };
    const after = previewAfter(name, current.text, args);
    if (!after.ok) return { kind: "diff_error", tool: name, path: filePath, error: after.error };
    return {
      kind: "diff",
      tool: name,
      path: filePath,
      before: current.text,
      after: after.after,
      newFile: current.newFile,
      ...(after.note ? { note: after.note } : {}),
    };
  }
  if (name === "bash") {
    return {
      kind: "bash",
      cmd: typeof args.cmd === "string" ? args.cmd : JSON.stringify(args.cmd),
      cwd: where.cwd,
      timeout: typeof args.timeout === "number" ? args.timeout : null,
    };
  }
  return { kind: "args" };
}

/**
 * The same tool's arguments that write exactly `edited` into the file as it is now; a write may
 * name another path (`toPath`), read through the same sandboxed path rules as the proposed one.
 */
export async function argsForEditedText(
  where: Where,
  name: string,
  args: Record<string, unknown>,
  edited: string,
  toPath?: string,
): Promise<EditedArgs> {
  if (!isDiffTool(name)) return { ok: false, error: `${name} has no file diff to edit; edit its arguments instead` };
  const proposedPath = typeof args.path === "string" ? args.path : "";
  const filePath = toPath ?? proposedPath;
  const refused = pathChangeRefusal(name, proposedPath, filePath);
  if (refused) return { ok: false, error: refused };
  const current = await currentText(where, name, filePath);
  if (!current.ok) return { ok: false, error: current.error };
  return editedArgsFor(name, args, current.text, edited, toPath);
}
