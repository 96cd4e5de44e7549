/**
 * The command's help text, generated from the configuration table so every flag is listed with
 * its default and environment variable and none can be forgotten.
 */
import { type FieldInfo, fieldInfo } from "@/lib/config";

function defaultText(f: FieldInfo): string {
  if (f.default === undefined) return f.whenUnset ? `unset (${f.whenUnset})` : "unset";
  return String(f.default);
}

/** `--temperature <number>`, `--[no-]training`, `--teacher-mode <student|ema|frozen>`. */
function usageOf(f: FieldInfo): string {
  switch (f.kind) {
    case "boolean":
      return f.default === true ? `--no-${f.flag.slice(2)}` : f.flag;
    case "enum":
      return `${f.flag} <${(f.choices ?? []).join("|")}>`;
    case "string":
      return `${f.flag} <text>`;
    case "number":
      return `${f.flag} <number>`;
    case "integer":
      return `${f.flag} <integer>`;
    default: {
      const unreachable: never = f.kind;
      throw new Error(`unknown field kind ${String(unreachable)}`);
    }
  }
}

function flagsHelp(): string {
  const rows = fieldInfo().map((f) => ({ usage: usageOf(f), f }));
  const width = Math.max(...rows.map((r) => r.usage.length)) + 2;
  return rows
    .map(({ usage, f }) => {
      const perUser = f.perUser ? "; per-user setting" : "";
      const range = f.range ? `; ${f.range}${f.unit ? ` ${f.unit}` : ""}` : "";
      const details = `default ${defaultText(f)}${range}; env ${f.env.join(", ")}${perUser}`;
      return `  ${usage.padEnd(width)}${f.description}\n  ${"".padEnd(width)}(${details})`;
    })
    .join("\n");
}

export function helpText(commands: ReadonlyArray<{ name: string; summary: string }>): string {
  const list = commands.map((c) => `  continualcode ${c.name.padEnd(18)}${c.summary}`).join("\n");
  return [
    "continualcode: a browser IDE whose coding agent learns from every correction (SDPO).",
    "",
    "Usage:",
    "  continualcode [flags]           serve the app (builds it first if needed)",
    ...(list ? [list] : []),
    "",
    "Flags (each may also be set by its environment variable; a flag wins over the environment,",
    "and a user's own setting in the app wins over both):",
    flagsHelp(),
    "",
    "Also read from the environment: DATABASE_URL (PostgreSQL instead of the built-in PGlite),",
    "LOG_LEVEL (debug | info | warn | error).",
  ].join("\n");
}
