/**
 * Command-line flags → a partial config. Accepts `--name value`, `--name=value`, bare boolean
 * flags (`--enable-rl`) and their negations (`--no-training`). Anything unknown, a missing value
 * or a bad value is a ConfigError that names the flag.
 */
import { CONFIG_KEYS, type ConfigKey, fieldOf, flagName } from "./fields";
import type { Config } from "./schema";
import { ConfigError, valueFromText } from "./text";

const KEY_BY_FLAG = new Map<string, ConfigKey>(CONFIG_KEYS.map((k) => [flagName(k), k]));

export function parseFlags(argv: readonly string[]): Partial<Config> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new ConfigError(arg, "unexpected argument (flags start with --; see --help)");
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);

    // 1. `--no-<flag>` for booleans.
    const negated = name.startsWith("--no-") ? KEY_BY_FLAG.get(`--${name.slice(5)}`) : undefined;
    if (negated && fieldOf(negated).kind === "boolean") {
      if (inline !== undefined) throw new ConfigError(name, "takes no value");
      out[negated] = false;
      continue;
    }
    const key = KEY_BY_FLAG.get(name);
    if (!key) throw new ConfigError(name, "unknown flag (see --help)");

    // 2. Booleans stand alone unless given `=value`.
    if (fieldOf(key).kind === "boolean") {
      out[key] = inline === undefined ? true : valueFromText(key, inline, name);
      continue;
    }
    // 3. Everything else takes the next word (or `=value`).
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new ConfigError(name, "expected a value");
      raw = next;
      i++;
    }
    out[key] = valueFromText(key, raw, name);
  }
  return out as Partial<Config>;
}
