/**
 * The configuration's zod schemas, assembled from the field table: the whole config, and the
 * partial object a user may store (per-user keys only, nothing else accepted).
 */
import { z } from "zod";
import { CONFIG_KEYS, type ConfigKey, FIELDS, type FieldOf, fieldOf } from "./fields";

type Shape = { [K in ConfigKey]: FieldOf<K>["schema"] };

export const configSchema = z.object(Object.fromEntries(CONFIG_KEYS.map((k) => [k, FIELDS[k].schema])) as Shape);

/** The whole configuration, every key present (optional ones may be undefined). */
export type Config = z.output<typeof configSchema>;

export const DEFAULTS = Object.fromEntries(CONFIG_KEYS.map((k) => [k, fieldOf(k).default])) as Config;

export const PER_USER_KEYS = CONFIG_KEYS.filter((k) => fieldOf(k).perUser);
export const SECRET_KEYS = CONFIG_KEYS.filter((k) => fieldOf(k).secret === true);

export type PerUserKey = {
  [K in ConfigKey]: FieldOf<K>["perUser"] extends true ? K : never;
}[ConfigKey];

export const userSettingsSchema = configSchema
  .pick(Object.fromEntries(PER_USER_KEYS.map((k) => [k, true])) as Record<ConfigKey, true>)
  .partial()
  .strict();

/** A user's overrides: any subset of the per-user settings. */
export type UserSettings = Partial<Config>;
