/**
 * The learning benchmark's scenarios (bench/scenarios/*.json): per habit, how to recognise it in
 * a proposed tool call, the corrections a person gives, and held-out tasks on workspaces the
 * training set never uses. The detector is a small declarative matcher (tool names plus argument
 * predicates) so scenarios stay data; `detectHabit` evaluates it against a call and what the
 * conversation has shown so far (which files exist, which were read).
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";

export const argPredicateSchema = z
  .strictObject({
    equals: z.unknown().optional().describe("the argument equals this value"),
    regex: z.string().optional().describe("the argument is a string matching this JavaScript regex"),
    existingFile: z.boolean().optional().describe("the argument names a file that exists (true) or not (false)"),
    readBefore: z
      .boolean()
      .optional()
      .describe("the argument names a file read earlier in the conversation (true) or not (false)"),
  })
  .describe("every predicate given must hold");

export const matcherSchema = z.strictObject({
  tool: z.array(z.string()).min(1).describe("the call's tool is one of these"),
  args: z.record(z.string(), argPredicateSchema).default({}).describe("per argument name, predicates on its value"),
});

export const heldOutTaskSchema = z.strictObject({
  seed: z.number().int().describe("workspace seed (generateWorkspace)"),
  family: z.string(),
  task: z.string().describe("the user's request"),
  values: z
    .record(z.string(), z.string())
    .describe("what the corrections' placeholders ({path}, {tool}, {command}, {wrong}) stand for in this task"),
});

export const scenarioSchema = z.strictObject({
  id: z.string(),
  description: z.string(),
  detector: matcherSchema,
  corrections: z
    .array(z.string().min(1))
    .min(1)
    .describe("phrasings with placeholders, filled from each task's values"),
  tasks: z.array(heldOutTaskSchema).min(1),
});

export const scenarioFileSchema = z.strictObject({
  version: z.literal(1),
  /** Workspace seeds at or above this are held out of training. */
  heldOutSeedBase: z.number().int(),
  scenarios: z.array(scenarioSchema).min(1),
});

export type Matcher = z.infer<typeof matcherSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioFile = z.infer<typeof scenarioFileSchema>;

export interface DetectionContext {
  /** Workspace-relative paths of the files that exist when the call is proposed. */
  existingFiles: ReadonlySet<string>;
  /** Paths the conversation has already read. */
  readPaths: ReadonlySet<string>;
}

function normalisePath(value: unknown): string | null {
  if (typeof value !== "string") return null;
  return value.replace(/^\.\//, "").replace(/\/+/g, "/");
}

export function detectHabit(
  matcher: Matcher,
  call: { name: string; arguments: Record<string, unknown> },
  ctx: DetectionContext,
): boolean {
  if (!matcher.tool.includes(call.name)) return false;
  for (const [name, p] of Object.entries(matcher.args)) {
    const value = call.arguments[name];
    if (p.equals !== undefined && JSON.stringify(value) !== JSON.stringify(p.equals)) return false;
    if (p.regex !== undefined && (typeof value !== "string" || !new RegExp(p.regex).test(value))) return false;
    const filePath = normalisePath(value);
    if (p.existingFile !== undefined && (filePath !== null && ctx.existingFiles.has(filePath)) !== p.existingFile)
      return false;
    if (p.readBefore !== undefined && (filePath !== null && ctx.readPaths.has(filePath)) !== p.readBefore) return false;
  }
  return true;
}

export async function loadScenarios(file: string): Promise<ScenarioFile> {
  return scenarioFileSchema.parse(JSON.parse(await readFile(file, "utf8")));
}
