import { describe, expect, it } from "vitest";
import { fieldInfo } from "@/lib/config";
import { configTable } from "./config-table";

describe("configTable", () => {
  it("has a header and one row per setting, each naming its flag, variables and default", () => {
    const fields = fieldInfo();
    const lines = configTable(fields).split("\n");
    expect(lines).toHaveLength(fields.length + 2);
    fields.forEach((f, i) => {
      const row = lines[i + 2]!;
      expect(row.startsWith(`| \`${f.flag}\` |`)).toBe(true);
      for (const env of f.env) expect(row).toContain(`\`${env}\``);
      expect(row).toContain(f.default === undefined ? "| — |" : `\`${String(f.default)}\``);
    });
  });
});
