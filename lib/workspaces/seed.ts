/**
 * Example projects shipped in the repository under `examples/`, and copying one into a new
 * workspace directory so a first-time user has something real to work on (a failing test).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { projectPath } from "@/lib/paths";
import { SKIPPED_DIRS } from "./tree";

/** The examples a workspace can start from; each is a folder under `examples/`. */
export const EXAMPLES = ["calculator"] as const;
export type ExampleName = (typeof EXAMPLES)[number];

export function examplePath(name: ExampleName): string {
  return projectPath("examples", name);
}

/** Copy the example's files (not caches or dependencies) into `dest`, which must be empty or absent. */
export async function seedFromExample(dest: string, name: ExampleName): Promise<void> {
  await fs.mkdir(dest, { recursive: true });
  await fs.cp(examplePath(name), dest, {
    recursive: true,
    errorOnExist: true,
    force: false,
    filter: (src) => !SKIPPED_DIRS.has(path.basename(src)),
  });
}
