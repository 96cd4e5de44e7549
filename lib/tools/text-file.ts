/**
 * Reading and writing workspace text files for the file tools, always through the sandbox's path
 * resolution. Lines keep their own terminators, so an edit changes only what it names: CRLF files
 * stay CRLF and a last line without a newline is never joined to appended text.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { DEFAULT_POLICY, type SandboxPolicy } from "@/lib/sandbox/policy";
import { resolveToolPath, type Intent } from "@/lib/sandbox/resolve";
import type { ToolContext } from "./types";

export { MAX_TEXT_BYTES, isBinary, splitLines, stripEol } from "./limits";
import { MAX_TEXT_BYTES, isBinary } from "./limits";

export function policyOf(ctx: ToolContext): SandboxPolicy {
  return ctx.sandbox.policy ?? DEFAULT_POLICY;
}

export function resolveFor(ctx: ToolContext, input: string, intent: Intent) {
  return resolveToolPath(policyOf(ctx), ctx.workspace, input, intent);
}

export type TextFile = { text: string; validUtf8: boolean };

/** The file's text, or an error sentence (missing, a folder, binary, too large, outside). */
export async function readTextFile(ctx: ToolContext, input: string): Promise<{ ok: true; file: TextFile; real: string } | { ok: false; error: string; missing?: boolean }> {
  const resolved = await resolveFor(ctx, input, "read");
  if (!resolved.ok) return { ok: false, error: resolved.error };
  const { stat, real } = resolved;
  if (!stat) return { ok: false, error: `file not found: ${input}`, missing: true };
  if (stat.isDirectory()) return { ok: false, error: `${input} is a directory, not a file` };
  if (!stat.isFile()) return { ok: false, error: `${input} is not a regular file` };
  if (stat.size > MAX_TEXT_BYTES) {
    return { ok: false, error: `${input} is ${stat.size} bytes; the file tools handle up to ${MAX_TEXT_BYTES} bytes (use grep, or bash with head/sed)` };
  }
  const bytes = await fs.readFile(real);
  if (isBinary(bytes)) return { ok: false, error: `${input} is a binary file (${bytes.length} bytes); not shown` };
  let validUtf8 = true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    validUtf8 = false;
  }
  return { ok: true, file: { text: bytes.toString("utf8"), validUtf8 }, real };
}

/**
 * Write `content` to an already-resolved real path: parent folders are created, and the final
 * component is opened with O_NOFOLLOW so a symlink swapped in after the check is not followed.
 */
export async function writeResolved(real: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(real), { recursive: true });
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const handle = await fs.open(real, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(content, "utf8");
  } finally {
    await handle.close();
  }
}

/** Write a file a tool already read: re-resolves for writing, so protected and multiply-linked files are refused. */
export async function writeTextFile(ctx: ToolContext, input: string, content: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const resolved = await resolveFor(ctx, input, "write");
  if (!resolved.ok) return resolved;
  if (resolved.stat?.isDirectory()) return { ok: false, error: `${input} is a directory` };
  try {
    await writeResolved(resolved.real, content);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `write failed: ${(error as Error).message}` };
  }
}
