/** Runs `runToolCommand` directly: `npx tsx lib/tools/cli-entry.ts <name> --workspace DIR --args JSON`. */
import { runToolCommand } from "./cli";

process.exitCode = await runToolCommand(process.argv.slice(2));
