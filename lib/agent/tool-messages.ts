/**
 * How the person's decisions and the tools' results appear in the conversation the model reads.
 * The agent loop and the training curriculum both write them through these functions, so the
 * model is trained on exactly the text it will see: a denied call's tool message is a compact
 * JSON record carrying the correction, an executed call's is the tool output (marked when it
 * failed), and a correction given after a tool failure, or of a final answer, follows as a user
 * message.
 */
import type { ToolResult } from "@/lib/tools/types";

/** Marks a failed tool's output, so failure is visible even when the output itself is terse. */
export const TOOL_ERROR_PREFIX = "Error: ";

/** The tool message for a call the person denied: `{"denied": true, "correction": "…"}`. */
export function deniedToolResult({ correction }: { correction: string }): string {
  return JSON.stringify({ denied: true, correction: correction.trim() });
}

/** The tool message for an executed call: its output, prefixed with the error marker on failure. */
export function toolResultText(result: Pick<ToolResult, "output" | "success">): string {
  return result.success ? result.output : `${TOOL_ERROR_PREFIX}${result.output}`;
}

/** The user message that carries the person's correction after a tool call failed. */
export function failureCorrectionMessage({ correction }: { correction: string }): string {
  return `Correction: ${correction.trim()}`;
}

/** The user message that carries the person's correction of the agent's final answer. */
export function answerCorrectionMessage({ correction }: { correction: string }): string {
  return `Your answer was not accepted. Correction: ${correction.trim()}`;
}
