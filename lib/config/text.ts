/**
 * Turns the text of a flag or an environment variable into a checked value of its field, with an
 * error message that names where the text came from ("--temperature: expected a number, got
 * 'abc'"). Secret values are never echoed back in a message.
 */
import { type ConfigKey, fieldOf } from "./fields";

export class ConfigError extends Error {
  /** The flag, environment variable or setting the error is about. */
  readonly source: string;
  constructor(source: string, detail: string) {
    super(`${source}: ${detail}`);
    this.name = "ConfigError";
    this.source = source;
  }
}

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

export type Checked = { ok: true; value: unknown } | { ok: false; detail: string };

/** Converts text to the field's kind (no range checks yet). */
function convert(key: ConfigKey, raw: string): Checked {
  const f = fieldOf(key);
  switch (f.kind) {
    case "string":
    case "enum":
      return { ok: true, value: raw };
    case "number":
    case "integer": {
      const n = raw.trim() === "" ? Number.NaN : Number(raw);
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, detail: "expected a number" };
    }
    case "boolean": {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, detail: "expected true or false" };
    }
    default: {
      const unreachable: never = f.kind;
      throw new Error(`unknown field kind ${String(unreachable)}`);
    }
  }
}

/** Validates a value of the right type against the field's schema. */
export function checkValue(key: ConfigKey, value: unknown): Checked {
  const parsed = fieldOf(key).schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, detail: parsed.error.issues[0]?.message ?? "invalid value" };
}

/** Text → checked value, or a ConfigError naming `source`. */
export function valueFromText(key: ConfigKey, raw: string, source: string): unknown {
  const converted = convert(key, raw);
  const checked = converted.ok ? checkValue(key, converted.value) : converted;
  if (checked.ok) return checked.value;
  const shown = fieldOf(key).secret ? "" : `, got '${raw}'`;
  throw new ConfigError(source, `${checked.detail}${shown}`);
}

/** Like valueFromText, but for a form: returns the message instead of throwing. */
export function checkText(key: ConfigKey, raw: string): Checked {
  const converted = convert(key, raw);
  return converted.ok ? checkValue(key, converted.value) : converted;
}
