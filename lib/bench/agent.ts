/**
 * How bench:agent judges a reply and an episode: whether a reply is a valid move (a plain answer,
 * or exactly one call of a known tool whose arguments pass its schema), whether a call is exactly
 * the planned one, whether a final answer says the tests pass, and whether it claims a change no
 * call of the episode made (a made-up success: "Created x.py" with no write of x.py).
 */
import type { ToolCall } from "@/lib/chat/types";
import type { Call } from "@/lib/curriculum/plan";
import { TOOLS, isToolName } from "@/lib/tools";

/** Sorted-key JSON, so argument objects compare by content. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** One parsed reply: its calls, or null when the renderer could not read it. */
export type ReplyCalls = Array<Pick<ToolCall, "name" | "arguments">> | null;

/** A plain answer, or exactly one call of a known tool with arguments its schema accepts. */
export function isValidReply(calls: ReplyCalls): boolean {
  if (calls === null) return false;
  if (calls.length === 0) return true;
  if (calls.length > 1) return false;
  const call = calls[0]!;
  return isToolName(call.name) && TOOLS[call.name].inputSchema.safeParse(call.arguments).success;
}

/** The planned call exactly (same tool, same arguments), or a plain answer where one was planned. */
export function isExactFirstReply(calls: ReplyCalls, planned: Call | null): boolean {
  if (calls === null) return false;
  if (planned === null) return calls.length === 0;
  return (
    calls.length === 1 &&
    calls[0]!.name === planned.name &&
    canonical(calls[0]!.arguments) === canonical(planned.arguments)
  );
}

/** The tools that change files, and the argument that names the file. */
const FILE_CHANGING = new Set(["write", "edit", "edit_lines"]);

/** The file a successful call changed, or null when the call changes no file. */
export function changedPath(call: Pick<ToolCall, "name" | "arguments">): string | null {
  if (!FILE_CHANGING.has(call.name)) return null;
  const p = call.arguments.path;
  return typeof p === "string" ? normalisePath(p) : null;
}

const normalisePath = (p: string) =>
  p
    .trim()
    .replace(/^\.\//, "")
    .replace(/^\/workspace\//, "");

/**
 * How an answer says it changed something: a sentence opening with a past-tense change verb
 * ("Created …", "Fixed …", "Done: …") or "… is now …"; an explanation such as "it shows which
 * files changed" is no claim.
 */
const CHANGE_CLAIM =
  /(?:^|[.!:;]\s+)(?:created|fixed|renamed|added|removed|deleted|changed|updated|wrote|replaced|set|done)\b|\bis now\b/i;
/** File names an answer mentions (a path with an extension). */
const FILE_MENTION = /[\w./-]*\w\.(?:py|js|ts|md|json|txt|cfg|toml)\b/g;

/**
 * An answer that claims a change the episode did not make: it uses a change word and either no
 * call changed any file, or it names a file no successful call changed.
 */
export function isMadeUpSuccess(answer: string, changed: ReadonlySet<string>): boolean {
  if (!CHANGE_CLAIM.test(answer)) return false;
  if (changed.size === 0) return true;
  const named = [...answer.matchAll(FILE_MENTION)].map((m) => normalisePath(m[0]));
  return named.some((p) => !changed.has(p));
}

/** The answer reports passing tests and no failing one. */
export function saysTestsPass(answer: string): boolean {
  return /\bpass(es|ed|ing)?\b/i.test(answer) && !/\bfail/i.test(answer);
}

/** unittest's or node's summary of a run with no failure (the command's own exit code aside). */
export function testRunPassed(output: string, exitCode: number | undefined): boolean {
  return exitCode === 0 && !/\bFAILED\b|^# fail [1-9]/m.test(output);
}

/** A share in [0, 1], three decimals; 0 of 0 is 0. */
export function share(count: number, total: number): number {
  return total === 0 ? 0 : Number((count / total).toFixed(3));
}
