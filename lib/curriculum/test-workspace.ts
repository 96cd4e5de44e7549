/**
 * For tests: a generated workspace written into a temporary folder, where shell commands run in
 * the bubblewrap sandbox as the curriculum runs them; the folder is removed afterwards.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ToolResult } from "@/lib/tools";
import { runCall, writeWorkspace } from "./runner";
import type { Workspace } from "./workspace";

export async function inWrittenWorkspace<T>(
  ws: Workspace,
  use: (bash: (cmd: string) => Promise<ToolResult>) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "curriculum-ws-"));
  try {
    await writeWorkspace(ws, dir);
    return await use((cmd) =>
      runCall({ name: "bash", arguments: { cmd } }, { workspace: dir, sandbox: { mode: "bwrap" } }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
