/**
 * Where managed workspaces live: `<dataDir>/workspaces/<directory id>`, with dataDir from the
 * configuration (`--data-dir` / `CONTINUALCODE_DATA_DIR`, default `./.data`, the database's too).
 */
import path from "node:path";
import { serverConfig } from "@/lib/config/server";

export function dataDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ serverConfig().config.dataDir);
}

export function workspacesRoot(base: string = dataDir()): string {
  return path.join(base, "workspaces");
}
