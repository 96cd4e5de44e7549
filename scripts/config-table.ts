/**
 * Prints the configuration table of the README (markdown) from lib/config's field metadata, so
 * the documented flags, variables and defaults are the ones the code reads:
 *   npx tsx scripts/config-table.ts
 */
import { fieldInfo, type FieldInfo } from "@/lib/config";

function shownDefault(f: FieldInfo): string {
  if (f.default === undefined) return "—";
  return `\`${String(f.default)}\``;
}

export function configTable(fields: FieldInfo[] = fieldInfo()): string {
  const rows = fields.map((f) => {
    const env = f.env.map((e) => `\`${e}\``).join(", ");
    const kind = f.choices ? f.choices.join(" \\| ") : f.kind;
    const notes = [f.perUser ? "per user" : "", f.secret ? "secret" : ""].filter(Boolean).join(", ");
    return `| \`${f.flag}\` | ${env} | ${kind} | ${shownDefault(f)} | ${notes} | ${f.description.replace(/\|/g, "\\|")} |`;
  });
  return ["| Flag | Environment | Type | Default | Scope | Description |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${configTable()}\n`);
}
