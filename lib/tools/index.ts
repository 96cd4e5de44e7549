/**
 * The tool registry: the seven tools, their specs for the chat renderer, and `executeTool`, the
 * one way a tool call runs (agent, CLI and tests alike): unknown name → failure listing the
 * tools; arguments validated with zod (the message names the bad argument); a thrown error →
 * "Tool crashed: …".
 */
import { z } from "zod";
import type { ToolSpec } from "@/lib/chat/types";
import type { Tool, ToolContext, ToolResult } from "./types";
import { readTool } from "./read";
import { writeTool } from "./write";
import { editTool } from "./edit";
import { editLinesTool } from "./edit-lines";
import { globTool } from "./glob";
import { grepTool } from "./grep";
import { bashTool } from "./bash";
import { isToolName, READONLY_TOOLS, TOOL_NAMES, type ToolName } from "./names";

export type { Tool, ToolContext, ToolResult } from "./types";

export { isToolName, READONLY_TOOLS, TOOL_NAMES, type ToolName } from "./names";

export const TOOLS = {
  read: readTool,
  write: writeTool,
  edit: editTool,
  edit_lines: editLinesTool,
  glob: globTool,
  grep: grepTool,
  bash: bashTool,
  // biome-ignore lint/suspicious/noExplicitAny: each tool has its own argument type; the check is only that every name has a tool.
} satisfies { [N in ToolName]: Tool<any> };

/** The arguments each tool takes, as its schema parses them. */
export type ToolArgs<N extends ToolName> = Parameters<(typeof TOOLS)[N]["run"]>[0];

for (const name of TOOL_NAMES) {
  if (TOOLS[name].name !== name || TOOLS[name].readOnly !== READONLY_TOOLS.has(name)) {
    throw new Error(`tool ${name}: its name or readOnly flag disagrees with lib/tools/names.ts`);
  }
}

export type { ToolSpec };

/**
 * JSON Schema without what the model does not need to see (zod still enforces all of it):
 * every token here is in every prompt, and a small model pays for each one.
 */
function compactSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema) as Record<string, unknown>;
  delete json.$schema;
  delete json.additionalProperties; // zod enforces it; the model needs no reminder in every prompt
  const props = json.properties as Record<string, Record<string, unknown>>;
  for (const prop of Object.values(props)) {
    delete prop.minimum;
    delete prop.maximum;
    delete prop.exclusiveMinimum;
  }
  return json;
}

export const TOOL_SPECS: ToolSpec[] = TOOL_NAMES.map((name) => ({
  name,
  description: TOOLS[name].description,
  parameters: compactSchema(TOOLS[name].inputSchema),
}));

/** "start_line: expected number, received string; unexpected argument 'file'" */
export function describeArgError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") return `unexpected argument(s): ${issue.keys.join(", ")}`;
      const where = issue.path.length > 0 ? issue.path.join(".") : "arguments";
      if (issue.code === "invalid_type" && issue.input === undefined) return `${where}: required argument missing`;
      return `${where}: ${issue.message}`;
    })
    .join("; ");
}

export async function executeTool(name: string, args: unknown, ctx: ToolContext): Promise<ToolResult> {
  if (!isToolName(name)) {
    return {
      output: `unknown tool: ${name}`,
      success: false,
      feedback: `There is no tool named ${name}. Valid tools: ${TOOL_NAMES.join(", ")}.`,
    };
  }
  const tool: Tool = TOOLS[name] as Tool;
  const parsed = tool.inputSchema.safeParse(args ?? {});
  if (!parsed.success) {
    const message = describeArgError(parsed.error);
    return {
      output: `invalid arguments for ${name}: ${message}`,
      success: false,
      feedback: `Fix the arguments of ${name} (${message}) and retry.`,
    };
  }
  try {
    return await tool.run(parsed.data, ctx);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      output: `Tool crashed: ${message}`,
      success: false,
      feedback: `Tool crashed: ${message}. Fix the arguments and retry.`,
    };
  }
}
