/**
 * `next build`, as the command shows it: Next's stages (compiling, checking types, collecting
 * page data, generating pages, finalizing) become one step line each, its warnings and errors are
 * shown as Next wrote them, and everything it printed (banner, route table) is kept in a log file
 * in the data directory. A failed build also prints the end of that output.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { exitCodeOf, INTERRUPTED } from "./child";
import { formatDuration, type Step, step, type Terminal } from "./status-lines";

export type BuildStage = "compiling" | "checking types" | "collecting page data" | "generating pages" | "finalizing";

/** What one line of Next's build output means here. */
export type BuildLine =
  /** A stage began or moved on: `progress` is Next's page count ("3/21") where it gives one. */
  | { type: "stage"; stage: BuildStage; progress?: string }
  /** Part of a warning or an error: shown in full. */
  | { type: "notice"; text: string }
  /** The banner, timings, the route table: kept in the log file only. */
  | { type: "log_only" };

// Next 16's wording, after its "✓ " mark is removed. Anything unrecognised is kept in the log.
const STAGES: ReadonlyArray<{ pattern: RegExp; stage: BuildStage }> = [
  { pattern: /^Creating an optimized production build/, stage: "compiling" },
  { pattern: /^Compiled (successfully|with warnings)/, stage: "compiling" },
  { pattern: /^(Running|Finished) TypeScript/, stage: "checking types" },
  { pattern: /^Collecting page data/, stage: "collecting page data" },
  { pattern: /^Generating static pages/, stage: "generating pages" },
  { pattern: /^(Finalizing page optimization|Collecting build traces)/, stage: "finalizing" },
];

// A warning or an error begins; it runs until the next stage line (its code frames and import
// traces hold blank lines of their own).
const NOTICE_START =
  /^(⚠|warn\b|Warning:|Turbopack build encountered|Failed to compile|Type error|Error:|error\b|>\s*Build (error|failed))/i;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what an ANSI colour code starts with.
const ANSI = /\x1b\[[0-9;]*m/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** A reader of one build's output, line by line (it remembers whether a warning is running). */
export function buildOutputReader(): (line: string) => BuildLine {
  let inNotice = false;
  return (raw) => {
    const text = stripAnsi(raw).trim().replace(/^✓\s*/, "");
    const match = STAGES.find((s) => s.pattern.test(text));
    if (match) {
      inNotice = false;
      const progress = /\((\d+\/\d+)\)/.exec(text)?.[1];
      return progress ? { type: "stage", stage: match.stage, progress } : { type: "stage", stage: match.stage };
    }
    if (NOTICE_START.test(text)) inNotice = true;
    return inNotice ? { type: "notice", text: raw } : { type: "log_only" };
  };
}

export type BuildResult = { ok: true; ms: number } | { ok: false; ms: number; code: number; tail: string[] };

/** Lines of a failed build's output printed with the failure; the log file has the rest. */
const TAIL_LINES = 40;

/**
 * Runs `next build` in `root`, its output summarised on `term` and kept whole in `logFile`.
 * SIGINT/SIGTERM reach the build, so Ctrl-C stops it.
 */
export async function buildApp({
  nextBin,
  root,
  env,
  logFile,
  term,
}: {
  nextBin: string;
  root: string;
  env: Record<string, string>;
  logFile: string;
  term: Terminal;
}): Promise<BuildResult> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);
  const read = buildOutputReader();
  const started = Date.now();
  const tail: string[] = [];
  let current: { stage: BuildStage; step: Step } | undefined;

  const endCurrent = (outcome: (s: Step) => string) => {
    current?.step.end(outcome(current.step));
    current = undefined;
  };
  const onLine = (line: string) => {
    tail.push(stripAnsi(line));
    if (tail.length > TAIL_LINES) tail.shift();
    const meaning = read(line);
    switch (meaning.type) {
      case "stage": {
        // A count only where the line can be redrawn: a written "0/4" would stay wrong.
        const label = `  ${meaning.stage}${meaning.progress && term.isTTY ? ` ${meaning.progress}` : ""}`;
        if (current?.stage === meaning.stage) current.step.update(label);
        else {
          endCurrent((s) => `done in ${formatDuration(s.elapsedMs())}`);
          current = { stage: meaning.stage, step: step(term, label) };
        }
        return;
      }
      case "notice": {
        const text = term.isTTY ? meaning.text : stripAnsi(meaning.text);
        if (current) current.step.print(text);
        else term.write(`${text}\n`);
        return;
      }
      case "log_only":
        return;
      default: {
        const unreachable: never = meaning;
        throw new Error(`unknown build line ${JSON.stringify(unreachable)}`);
      }
    }
  };

  // Next's types require NODE_ENV in every env object; `next build` sets it itself.
  const child = spawn(process.execPath, [nextBin, "build"], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      log.write(chunk);
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    stream.on("end", () => {
      if (pending) onLine(pending);
      pending = "";
    });
  }
  const code = await exitCodeOf(child);
  const ms = Date.now() - started;
  await new Promise<void>((resolve) => log.end(resolve));
  if (code === 0) {
    endCurrent((s) => `done in ${formatDuration(s.elapsedMs())}`);
    return { ok: true, ms };
  }
  const ending = code === INTERRUPTED ? "stopped" : "failed";
  endCurrent((s) => `${ending} after ${formatDuration(s.elapsedMs())}`);
  return { ok: false, ms, code, tail };
}
