/**
 * The effective configuration and where each value came from. Precedence, highest first: the
 * user's own setting > a command-line flag > an environment variable > what the chosen base model
 * recommends for itself > the default. Flags and the environment are the operator's and must be
 * valid (a ConfigError otherwise); stored user settings that no longer validate are skipped, so an
 * old setting can never break a session.
 */
import { CONFIG_KEYS, type ConfigKey, fieldOf, flagName } from "./fields";
import { type Env, flagKeysFromEnv, readEnv } from "./env";
import { type Config, configSchema, DEFAULTS, type UserSettings } from "./schema";
import { checkText, checkValue, ConfigError } from "./text";

export type ValueSource = "user" | "flag" | "env" | "model" | "default";

/**
 * Settings a base model was tuned with (a tiny model learns at a far higher rate than a 30B one),
 * already validated. Consulted only for values nobody set.
 */
export type ModelDefaults = (model: string) => Partial<Record<ConfigKey, unknown>>;

export type ResolvedConfig = {
  config: Config;
  sources: Record<ConfigKey, ValueSource>;
};

export function resolveConfig({
  flags = {},
  env = {},
  user = {},
  modelDefaults,
}: {
  flags?: Partial<Config>;
  env?: Env;
  user?: Record<string, unknown>;
  modelDefaults?: ModelDefaults;
}): ResolvedConfig {
  const fromEnv = readEnv(env);
  const flagKeysInEnv = flagKeysFromEnv(env);
  const fromUser = usableUserSettings(user);
  const config: Partial<Record<ConfigKey, unknown>> = {};
  const sources = {} as Record<ConfigKey, ValueSource>;
  let fromModel: Partial<Record<ConfigKey, unknown>> = {};
  // The model is resolved first: which model it is decides what it recommends for the rest.
  for (const key of ["model" as const, ...CONFIG_KEYS.filter((k) => k !== "model")]) {
    if (fromUser[key] !== undefined) {
      config[key] = fromUser[key];
      sources[key] = "user";
    } else if (flags[key] !== undefined) {
      const checked = checkValue(key, flags[key]);
      if (!checked.ok) throw new ConfigError(flagName(key), checked.detail);
      config[key] = checked.value;
      sources[key] = "flag";
    } else if (fromEnv[key] !== undefined) {
      config[key] = fromEnv[key];
      sources[key] = flagKeysInEnv.has(key) ? "flag" : "env";
    } else if (fromModel[key] !== undefined) {
      config[key] = fromModel[key];
      sources[key] = "model";
    } else {
      config[key] = DEFAULTS[key];
      sources[key] = "default";
    }
    if (key === "model" && modelDefaults) fromModel = modelDefaults(config.model as string);
  }
  return { config: configSchema.parse(config), sources };
}

/** The per-user keys of `user` whose values still validate; everything else is ignored. */
function usableUserSettings(user: Record<string, unknown>): Partial<Record<ConfigKey, unknown>> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of CONFIG_KEYS) {
    if (!fieldOf(key).perUser || user[key] === undefined || user[key] === null) continue;
    const checked = checkValue(key, user[key]);
    if (checked.ok) out[key] = checked.value;
  }
  return out;
}

export type UserSettingsResult = { ok: true; settings: UserSettings } | { ok: false; errors: Record<string, string> };

/**
 * Checks what the settings form sent. Values may be typed or text (form fields); an empty value
 * (null, undefined, "") clears the override. Unknown keys and operator-only keys are errors.
 */
export function validateUserSettings(input: unknown): UserSettingsResult {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, errors: { _: "expected an object of settings" } };
  }
  const settings: Partial<Record<ConfigKey, unknown>> = {};
  const errors: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    const key = CONFIG_KEYS.find((k) => k === name);
    if (!key) {
      errors[name] = "unknown setting";
      continue;
    }
    if (!fieldOf(key).perUser) {
      errors[name] = "not a per-user setting";
      continue;
    }
    if (value === undefined || value === null || value === "") continue;
    const checked = typeof value === "string" ? checkText(key, value) : checkValue(key, value);
    if (checked.ok) settings[key] = checked.value;
    else errors[name] = checked.detail;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, settings: settings as UserSettings };
}

const MASK = "••••••••";

/** The config as the browser may see it: secrets replaced by a mask (or absent when unset). */
export function publicConfig(config: Config): Config {
  const out: Record<string, unknown> = { ...config };
  for (const key of CONFIG_KEYS) {
    if (fieldOf(key).secret && out[key] !== undefined) out[key] = MASK;
  }
  return out as Config;
}
