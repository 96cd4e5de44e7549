/**
 * The settings a base model recommends for itself, read from `continualcode.json` in its
 * directory: `{ "recommended": { "learningRate": 0.003, ... }, "why": "..." }`. They fill in only
 * what no user, flag or environment variable set (lib/config/resolve.ts), so the bundled tiny
 * model trains at the rate it was measured to learn at while a Tinker model keeps the defaults.
 * A file that names an unknown setting, a server-only one, or an invalid value is an error that
 * names the file: it ships with the model and should never be silently half-applied.
 */
import fs from "node:fs";
import path from "node:path";
import { CONFIG_KEYS, type ConfigKey } from "@/lib/config";
import { fieldOf } from "@/lib/config/fields";
import type { ModelDefaults } from "@/lib/config/resolve";
import { checkValue } from "@/lib/config/text";
import { catalogueEntry, defaultCatalogue, isModelDirectory, type ModelCatalogue } from "./models";

export const MODEL_DEFAULTS_FILE = "continualcode.json";

type Recommended = Partial<Record<ConfigKey, unknown>>;

/** The validated recommendations in `dir`, or {} when it has no file. */
export function readModelDefaults(dir: string): Recommended {
  const file = path.join(dir, MODEL_DEFAULTS_FILE);
  if (!fs.existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const recommended = (json as { recommended?: unknown } | null)?.recommended;
  if (typeof recommended !== "object" || recommended === null || Array.isArray(recommended)) {
    throw new Error(`${file}: expected {"recommended": {setting: value, …}}`);
  }
  const out: Recommended = {};
  for (const [name, value] of Object.entries(recommended)) {
    const key = CONFIG_KEYS.find((k) => k === name);
    // The model itself and operator-only settings (ports, keys, paths) are not a model's to choose.
    if (!key || key === "model" || !fieldOf(key).perUser)
      throw new Error(`${file}: ${name} is not a setting a model may recommend`);
    const checked = checkValue(key, value);
    if (!checked.ok) throw new Error(`${file}: ${name} ${checked.detail}`);
    out[key] = checked.value;
  }
  return out;
}

/**
 * Recommendations by model name: a catalogue name's directory or a directory given as the name.
 * Anything else (a Tinker model) recommends nothing. Files are read once per modification time.
 */
export function modelDefaults(catalogue: ModelCatalogue = defaultCatalogue()): ModelDefaults {
  const cache = new Map<string, { mtimeMs: number; value: Recommended }>();
  return (model) => {
    const source = catalogueEntry(catalogue, model);
    const dir = source && "dir" in source ? source.dir : isModelDirectory(model) ? path.resolve(model) : undefined;
    if (dir === undefined) return {};
    const file = path.join(dir, MODEL_DEFAULTS_FILE);
    const mtimeMs = fs.existsSync(file) ? fs.statSync(file).mtimeMs : -1;
    const hit = cache.get(dir);
    if (hit?.mtimeMs === mtimeMs) return hit.value;
    const value = readModelDefaults(dir);
    cache.set(dir, { mtimeMs, value });
    return value;
  };
}
