/**
 * Reading one workspace file for the viewer: text comes back as a string, while binary files,
 * large files, folders and anything outside the workspace come back as a described refusal, so
 * the viewer never dumps megabytes or bytes of another user's disk into the page.
 */
import fs from "node:fs/promises";
import { resolveInWorkspace } from "./paths";

/** Monaco stays responsive far beyond this, but a viewer has no use for larger files. */
export const MAX_VIEW_BYTES = 1024 * 1024;
/** How much of a file is inspected to tell text from binary (as git does with its first 8000 bytes). */
const SNIFF_BYTES = 8000;

export type FileView =
  | { kind: "text"; path: string; size: number; content: string }
  | { kind: "binary"; path: string; size: number }
  | { kind: "too_large"; path: string; size: number; limit: number }
  | { kind: "directory"; path: string }
  | { kind: "not_found"; path: string; error: string }
  | { kind: "outside"; path: string; error: string };

/** A NUL byte, or a sequence that is not valid UTF-8, marks a file as binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    // A multi-byte character cut at the sniff boundary is not a reason to call a file binary.
    if (bytes.length < SNIFF_BYTES) return true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, bytes.length - 4), { stream: true });
      return false;
    } catch {
      return true;
    }
  }
}

export async function readWorkspaceFile(workspaceRoot: string, relativePath: string): Promise<FileView> {
  const resolved = await resolveInWorkspace(workspaceRoot, relativePath);
  switch (resolved.status) {
    case "outside":
      return { kind: "outside", path: relativePath, error: resolved.error };
    case "not_found":
      return { kind: "not_found", path: relativePath, error: resolved.error };
    case "ok":
      break;
    default: {
      const unreachable: never = resolved;
      throw new Error(`unhandled resolution ${JSON.stringify(unreachable)}`);
    }
  }
  const stat = await fs.stat(resolved.realPath);
  if (stat.isDirectory()) return { kind: "directory", path: relativePath };
  if (stat.size > MAX_VIEW_BYTES) {
    return { kind: "too_large", path: relativePath, size: stat.size, limit: MAX_VIEW_BYTES };
  }
  const bytes = await fs.readFile(resolved.realPath);
  if (looksBinary(bytes.subarray(0, SNIFF_BYTES))) return { kind: "binary", path: relativePath, size: stat.size };
  return { kind: "text", path: relativePath, size: stat.size, content: bytes.toString("utf8") };
}
