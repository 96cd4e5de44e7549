/**
 * Environment variables ⇄ config. `readEnv` reads CONTINUALCODE_<KEY> (then the original's names:
 * TINKER_API_KEY, TINKER_BASE_URL, PORT); empty variables count as unset. `flagsToEnv` is how the
 * `continualcode` command hands its flags to the server process: the same variables, plus
 * CONTINUALCODE_FLAG_KEYS so the settings page can still say a value came from a flag.
 */
import { CONFIG_KEYS, type ConfigKey, envName, envNames } from "./fields";
import type { Config } from "./schema";
import { valueFromText } from "./text";

export type Env = Readonly<Record<string, string | undefined>>;

export const FLAG_KEYS_VAR = "CONTINUALCODE_FLAG_KEYS";

export function readEnv(env: Env): Partial<Config> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of CONFIG_KEYS) {
    for (const name of envNames(key)) {
      const raw = env[name];
      if (raw === undefined || raw === "") continue;
      out[key] = valueFromText(key, raw, name);
      break;
    }
  }
  return out as Partial<Config>;
}

/** The keys the command line set, as recorded by flagsToEnv. */
export function flagKeysFromEnv(env: Env): Set<ConfigKey> {
  const listed = (env[FLAG_KEYS_VAR] ?? "").split(",").filter(Boolean);
  return new Set(CONFIG_KEYS.filter((k) => listed.includes(k)));
}

export function flagsToEnv(flags: Partial<Config>): Record<string, string> {
  const out: Record<string, string> = {};
  const keys: ConfigKey[] = [];
  for (const key of CONFIG_KEYS) {
    const value = flags[key];
    if (value === undefined) continue;
    out[envName(key)] = String(value);
    keys.push(key);
  }
  out[FLAG_KEYS_VAR] = keys.join(",");
  return out;
}
