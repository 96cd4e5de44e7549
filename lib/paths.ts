/**
 * Where the project's own files are at run time. Worker-thread entry points, the bundled model and
 * the kernels' .wasm are read from the source tree, so code that is bundled (the Next.js server)
 * and code that is not (tests, the CLI) find them the same way.
 */
import path from "node:path";

/** The repository root: set by bin/continualcode, else the working directory (npm scripts, tests). */
export function projectRoot(): string {
  return process.env.CONTINUALCODE_ROOT ?? process.cwd();
}

/** An absolute path to a file of the project, given relative to its root. */
export function projectPath(...segments: string[]): string {
  return path.join(/*turbopackIgnore: true*/ projectRoot(), ...segments);
}
