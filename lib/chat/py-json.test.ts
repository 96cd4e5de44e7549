import { describe, expect, it } from "vitest";
import { pyJson } from "./py-json";

describe("pyJson", () => {
  it("writes Python's separators and keeps key order", () => {
    expect(pyJson({ b: 1, a: [true, null, "x"], c: { z: {}, y: [] } })).toBe(
      '{"b": 1, "a": [true, null, "x"], "c": {"z": {}, "y": []}}',
    );
  });

  it("leaves non-ASCII unescaped and escapes control characters like Python", () => {
    expect(pyJson("é 検索 🦀")).toBe('"é 検索 🦀"');
    expect(pyJson('q"\\\n\t\u0001\u007f')).toBe('"q\\"\\\\\\n\\t\\u0001\u007f"');
  });

  it("drops undefined object values, as JSON does, and writes non-finite numbers as Python does", () => {
    expect(pyJson({ a: undefined, b: 2.5 })).toBe('{"b": 2.5}');
    expect(pyJson([NaN, Infinity, -Infinity])).toBe("[NaN, Infinity, -Infinity]");
  });
});
