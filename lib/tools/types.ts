/**
 * The shape every tool shares. A tool is data plus one function: its name, a short description
 * (every token of it sits in every prompt), a zod schema for its arguments, whether it only
 * reads, and `run`, which returns output, a success flag and, on failure, `feedback`: the hint
 * the UI pre-fills as the correction.
 */
import type { z } from "zod";
import type { SandboxPolicy } from "@/lib/sandbox/policy";
import type { SandboxMode } from "@/lib/sandbox/run";

export type ToolResult = {
  output: string;
  success: boolean;
  feedback?: string;
  /**
   * Set only when a command ran to its end and exited non-zero on its own (not stopped at a
   * limit or a timeout): it ran as asked, and its output is what the agent asked to see.
   */
  exitCode?: number;
};

export type ToolContext = {
  /** The workspace root on the host. */
  workspace: string;
  /** Chosen by the server's administrator; the model cannot change it. */
  sandbox: { mode: SandboxMode; policy?: SandboxPolicy };
  signal?: AbortSignal;
};

export type Tool<S extends z.ZodType = z.ZodType> = {
  name: string;
  description: string;
  inputSchema: S;
  readOnly: boolean;
  run(args: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
};

export function ok(output: string): ToolResult {
  return { output, success: true };
}

export function fail(output: string, feedback?: string): ToolResult {
  return feedback === undefined ? { output, success: false } : { output, success: false, feedback };
}
