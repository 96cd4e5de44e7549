/**
 * The tool names and which of them only read, as plain constants: approval rules and the UI can
 * import these without pulling in the tools themselves (child processes, worker threads).
 * index.ts checks at load that every tool's `readOnly` flag agrees.
 */

export const TOOL_NAMES = ["read", "write", "edit", "edit_lines", "glob", "grep", "bash"] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export const READONLY_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>(["read", "glob", "grep"]);

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}
