/**
 * One-line summaries of a tool call, as the original shows them after `●`: `$ cmd` for bash,
 * `path @ a-b` for edit_lines, the path for the other file tools, `base pat` for glob/grep; and
 * the default "always allow" pattern offered for a call (its path, or the command's first word).
 */
const s = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));

export function callSummary(name: string, args: Record<string, unknown>): string {
  switch (name) {
    case "bash":
      return `$ ${s(args.cmd)}`;
    case "edit_lines":
      return `${s(args.path)} @ ${s(args.start_line)}-${s(args.end_line)}`;
    case "glob":
    case "grep":
      return `${s(args.path) || "."} ${s(args.pat)}`;
    default:
      return typeof args.path === "string" ? args.path : JSON.stringify(args);
  }
}

/** The rule pattern an "always allow" offers first: the file's path, or the command's first word. */
export function defaultRulePattern(
  name: string,
  args: Record<string, unknown>,
): { kind: "path" | "bash_prefix"; pattern: string } | null {
  if (name === "bash") {
    const first = s(args.cmd).trim().split(/\s+/)[0] ?? "";
    return first ? { kind: "bash_prefix", pattern: first } : null;
  }
  if (typeof args.path === "string" && args.path !== "") return { kind: "path", pattern: args.path };
  return null;
}
