/**
 * `continualcode tool <name> --workspace DIR --args JSON [--unsandboxed]`: runs one tool exactly
 * as the agent would (same registry, sandbox and limits) and prints its result as JSON. Exit
 * code 0 when the tool succeeded, 1 when it failed, 2 for a usage error. `--unsandboxed` is the
 * administrator's explicit choice to run bash without bubblewrap.
 */
import { executeTool, TOOL_NAMES } from "./index";

const USAGE = `usage: continualcode tool <name> --workspace DIR --args JSON [--unsandboxed]\ntools: ${TOOL_NAMES.join(", ")}`;

type Parsed = { name: string; workspace: string; args: unknown; unsandboxed: boolean };

export function parseToolArgv(argv: string[]): Parsed | { error: string } {
  let name: string | undefined;
  let workspace: string | undefined;
  let rawArgs = "{}";
  let unsandboxed = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--workspace") workspace = value();
    else if (flag === "--args") rawArgs = value() ?? "";
    else if (flag === "--unsandboxed") unsandboxed = true;
    else if (flag.startsWith("-")) return { error: `unknown option ${flag}` };
    else if (name === undefined) name = arg;
    else return { error: `unexpected argument ${arg}` };
  }
  if (!name) return { error: "missing tool name" };
  if (!workspace) return { error: "missing --workspace DIR" };
  try {
    return { name, workspace, args: JSON.parse(rawArgs), unsandboxed };
  } catch (error) {
    return { error: `--args is not valid JSON: ${(error as Error).message}` };
  }
}

export async function runToolCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parsed = parseToolArgv(argv);
  if ("error" in parsed) {
    process.stderr.write(`continualcode tool: ${parsed.error}\n${USAGE}\n`);
    return 2;
  }
  const result = await executeTool(parsed.name, parsed.args, {
    workspace: parsed.workspace,
    sandbox: { mode: parsed.unsandboxed ? "unsandboxed" : "bwrap" },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.success ? 0 : 1;
}

/** The subcommand table's convention (lib/cli/main.ts): a module exporting `run(argv)`. */
export const run = runToolCommand;
