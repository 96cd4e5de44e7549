import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BuildLine, buildApp, buildOutputReader } from "./next-build";
import type { Terminal } from "./status-lines";

// Next 16.4's output for this app before its warnings were fixed, shortened (one code frame,
// one import trace) with its colours kept.
const NEXT_OUTPUT = `▲ Next.js 16.4.6 (Turbopack)
✓ Running next.config.mjs took 11ms

  Creating an optimized production build ...
✓ Compiled successfully in 24.9s
  Running TypeScript ...
  Finished TypeScript in 15.0s ...
  Collecting page data using 1 worker ...
  Generating static pages using 1 worker (0/4) ...
  Generating static pages using 1 worker (1/4) 
✓ Generating static pages using 1 worker (4/4) in 141ms
Turbopack build encountered 1 warnings:
./lib/sandbox/resolve.ts:56:18
Warning: Dynamic filesystem access causes tracing of the whole project
\x1b[33m\x1b[1m>\x1b[0m \x1b[90m56 |\x1b[0m     \x1b[36mconst\x1b[0m next = path.join(current, part);

Import traces:
    ./lib/sandbox/resolve.ts

  Finalizing page optimization ...

Route (app)
┌ ○ /
└ ƒ /workspaces/[id]`;

describe("reading next build's output", () => {
  it("turns Next's stages into steps, keeps warnings whole and leaves the rest to the log file", () => {
    const read = buildOutputReader();
    const meanings: BuildLine[] = NEXT_OUTPUT.split("\n").map(read);
    const stages = meanings.flatMap((m) =>
      m.type === "stage" ? [m.progress ? `${m.stage} ${m.progress}` : m.stage] : [],
    );
    expect(stages).toEqual([
      "compiling",
      "compiling",
      "checking types",
      "checking types",
      "collecting page data",
      "generating pages 0/4",
      "generating pages 1/4",
      "generating pages 4/4",
      "finalizing",
    ]);
    const notices = meanings.flatMap((m) => (m.type === "notice" ? [m.text] : []));
    expect(notices[0]).toBe("Turbopack build encountered 1 warnings:");
    expect(notices).toContain("Warning: Dynamic filesystem access causes tracing of the whole project");
    expect(notices).toContain("    ./lib/sandbox/resolve.ts");
    expect(notices).toHaveLength(8);
    const logOnly = NEXT_OUTPUT.split("\n").filter((_, i) => meanings[i]!.type === "log_only");
    expect(logOnly).toEqual([
      "▲ Next.js 16.4.6 (Turbopack)",
      "✓ Running next.config.mjs took 11ms",
      "",
      "",
      "Route (app)",
      "┌ ○ /",
      "└ ƒ /workspaces/[id]",
    ]);
  });

  it("shows an error line Next prints outside any stage", () => {
    const read = buildOutputReader();
    expect(read("> Build error occurred")).toEqual({ type: "notice", text: "> Build error occurred" });
    expect(read("Error: > Couldn't find any `pages` or `app` directory.").type).toBe("notice");
  });
});

describe("buildApp", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("on a failed build hands back the end of Next's output and keeps all of it in the log file", async () => {
    // A directory with no app in it: the real `next build` fails there within a second or two.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "cc-build-"));
    dirs.push(root);
    const logFile = path.join(root, "data", "logs", "next-build.log");
    const chunks: string[] = [];
    const term: Terminal = { isTTY: false, write: (t) => void chunks.push(t) };
    const result = await buildApp({
      nextBin: createRequire(import.meta.url).resolve("next/dist/bin/next"),
      root,
      env: { PATH: process.env.PATH ?? "", NEXT_TELEMETRY_DISABLED: "1" },
      logFile,
      term,
    });
    expect(result).toMatchObject({ ok: false, code: 1 });
    const tail = result.ok ? [] : result.tail;
    expect(tail.join("\n")).toContain("Couldn't find any `pages` or `app` directory");
    expect(fs.readFileSync(logFile, "utf8")).toContain("▲ Next.js");
    // The error was shown as it happened; the banner was not.
    expect(chunks.join("")).toContain("> Build error occurred");
    expect(chunks.join("")).not.toContain("▲ Next.js");
  });
});
