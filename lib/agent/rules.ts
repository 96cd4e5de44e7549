/**
 * Whether a proposed tool call runs at once or waits for the person: a pure function of the call,
 * the user's "always allow" rules and the auto-approve setting. Rules are data (the allow_rule
 * table): a whole tool, a path glob for the file tools, or bash command prefixes that must match
 * EVERY simple command of the parsed command line. Redirects, subshells, command substitution,
 * process substitution and `eval`/`sh -c` always ask, whatever the rules say.
 */
import path from "node:path";
import type { AllowRuleKind } from "@/lib/db/enums";
import { isToolName, READONLY_TOOLS } from "@/lib/tools/names";
import { matchGlob } from "@/lib/tools/glob-match";
import { matchesPrefix, parseCommand } from "./bash-parse";

export type RuleKind = AllowRuleKind;

/** One "always allow" rule, as stored in allow_rule (pattern: a glob, a word prefix, or null). */
export type ApprovalRule = { tool: string; kind: RuleKind; pattern: string | null };

export type ApprovalInput = {
  tool: string;
  args: Record<string, unknown>;
  rules: ApprovalRule[];
  autoApproveReadonly: boolean;
};

export type ApprovalDecision = { decision: "auto" | "ask"; reason: string };

const ask = (reason: string): ApprovalDecision => ({ decision: "ask", reason });
const auto = (reason: string): ApprovalDecision => ({ decision: "auto", reason });

/** The workspace-relative path a file tool names, normalised; null when it is absolute or climbs out. */
function normalisedToolPath(tool: string, args: Record<string, unknown>): string | null {
  const raw = typeof args.path === "string" ? args.path : tool === "glob" || tool === "grep" ? "." : null;
  if (raw === null || raw.includes("\0") || path.isAbsolute(raw)) return null;
  const normal = path.posix.normalize(raw.replace(/\\/g, "/")).replace(/\/+$/, "");
  if (normal === ".." || normal.startsWith("../")) return null;
  return normal === "" ? "." : normal;
}

function ruleMatches(rule: ApprovalRule, tool: string, args: Record<string, unknown>): boolean {
  switch (rule.kind) {
    case "tool":
      return true;
    case "path": {
      const p = normalisedToolPath(tool, args);
      return p !== null && rule.pattern !== null && matchGlob(rule.pattern, p);
    }
    case "bash_prefix":
      return false; // bash prefixes are matched per segment below
    default: {
      const never: never = rule.kind;
      throw new Error(`unknown rule kind ${String(never)}`);
    }
  }
}

function decideBash(cmd: unknown, rules: ApprovalRule[]): ApprovalDecision {
  if (typeof cmd !== "string" || cmd.trim() === "") return ask("no command to check");
  const parsed = parseCommand(cmd);
  if (parsed.risks.length > 0) return ask(`needs approval: ${parsed.risks.join(", ")}`);
  if (rules.some((r) => r.kind === "tool")) return auto("always allowed: bash");
  const prefixes = rules.filter((r) => r.kind === "bash_prefix" && r.pattern).map((r) => r.pattern!);
  if (prefixes.length === 0) return ask("no rule allows bash");
  const used: string[] = [];
  for (const words of parsed.segments) {
    const hit = prefixes.find((p) => matchesPrefix(words, p));
    if (!hit) return ask(`no allowed prefix matches \`${words.join(" ")}\``);
    if (!used.includes(hit)) used.push(hit);
  }
  return auto(`every command matches an allowed prefix (${used.join(", ")})`);
}

export function decideApproval({ tool, args, rules, autoApproveReadonly }: ApprovalInput): ApprovalDecision {
  if (!isToolName(tool)) return ask(`unknown tool ${tool}`);
  const own = rules.filter((r) => r.tool === tool);
  if (tool === "bash") return decideBash(args.cmd, own);
  if (autoApproveReadonly && READONLY_TOOLS.has(tool))
    return auto(`${tool} only reads; read-only tools are auto-approved`);
  const hit = own.find((r) => ruleMatches(r, tool, args));
  if (!hit) return ask(`no rule allows this ${tool} call`);
  return auto(hit.kind === "tool" ? `always allowed: ${tool}` : `path matches ${hit.pattern} for ${tool}`);
}
