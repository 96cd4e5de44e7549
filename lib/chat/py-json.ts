/**
 * JSON text exactly as Python's `json.dumps(x, ensure_ascii=False)` writes it, which is what the
 * Hugging Face chat templates' `tojson` filter emits: `", "` and `": "` separators, keys in
 * insertion order, non-ASCII characters unescaped. Tool specs and tool-call arguments are rendered
 * with it so prompts match what the Qwen models were trained on.
 */
export function pyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      // JSON.stringify escapes the same set as Python (", \, control chars as \n or \u00xx).
      return JSON.stringify(value);
    case "number":
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object": {
      if (Array.isArray(value)) return `[${value.map(pyJson).join(", ")}]`;
      const entries = Object.entries(value as Record<string, unknown>).filter(
        ([, v]) => v !== undefined && typeof v !== "function",
      );
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(", ")}}`;
    }
    default:
      throw new TypeError(`cannot serialise a ${typeof value} as JSON`);
  }
}
