/**
 * The `continualcode` command's entry: the first word picks a subcommand from a table (no word,
 * or a flag first, serves the app). Each entry loads its module only when chosen, so adding a
 * subcommand is one line here plus a module exporting `run(argv) → exit code`.
 */
import { helpText } from "./help";

type Subcommand = {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
};

export const SUBCOMMANDS: Record<string, Subcommand> = {
  serve: { summary: "serve the app (the same as no command)", load: () => import("./serve") },
  trainer: { summary: "trainer serve: the Tinker API over the embedded engine", load: () => import("./trainer-serve") },
  tool: {
    summary: "run one tool exactly as the agent would; prints the result as JSON",
    load: () => import("../tools/cli"),
  },
};

function commandList() {
  return Object.entries(SUBCOMMANDS).map(([name, c]) => ({ name, summary: c.summary }));
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const serving = first === undefined || first.startsWith("-");
  if (first === "help" || ((serving || first === "serve") && isHelp(argv))) {
    process.stdout.write(`${helpText(commandList())}\n`);
    return 0;
  }
  if (serving) return (await SUBCOMMANDS.serve!.load()).run(argv);
  const command = Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined;
  if (!command) {
    const names = Object.keys(SUBCOMMANDS).join(", ");
    process.stderr.write(`continualcode: unknown command '${first}' (commands: ${names}; see --help)\n`);
    return 2;
  }
  return (await command.load()).run(rest);
}

function isHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
