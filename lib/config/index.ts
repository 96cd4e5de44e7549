/**
 * Configuration of continualcode: one table of settings (fields.ts), read from flags, the
 * environment and each user's stored overrides, and resolved with a record of where each value
 * came from. Server code; the browser gets `publicConfig` and `fieldInfo` output only.
 */
export {
  CONFIG_KEYS,
  type ConfigKey,
  envName,
  envNames,
  FIELDS,
  type FieldInfo,
  type FieldKind,
  fieldInfo,
  fieldsByGroup,
  flagName,
  LOSS_MODES,
  rangeText,
  SETTING_GROUPS,
  type SettingGroup,
  type SettingUnit,
  TEACHER_MODES,
} from "./fields";
export {
  type Config,
  configSchema,
  DEFAULTS,
  PER_USER_KEYS,
  SECRET_KEYS,
  type UserSettings,
  userSettingsSchema,
} from "./schema";
export { ConfigError } from "./text";
export { parseFlags } from "./flags";
export { type Env, FLAG_KEYS_VAR, flagsToEnv, readEnv } from "./env";
export {
  publicConfig,
  type ResolvedConfig,
  resolveConfig,
  type UserSettingsResult,
  validateUserSettings,
  type ValueSource,
} from "./resolve";
