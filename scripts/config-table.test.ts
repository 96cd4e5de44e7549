import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fieldInfo } from "@/lib/config";
import { configTable, withTable } from "./config-table";

describe("configTable", () => {
  it("has a header and one row per setting, each naming its group, flag, variables and default", () => {
    const fields = fieldInfo();
    const lines = configTable().split("\n");
    expect(lines).toHaveLength(fields.length + 2);
    for (const f of fields) {
      const row = lines.find((l) => l.includes(`| \`${f.flag}\` |`));
      expect(row, f.flag).toBeDefined();
      expect(row!.startsWith(`| ${f.group} |`)).toBe(true);
      for (const env of f.env) expect(row).toContain(`\`${env}\``);
      if (f.default !== undefined) expect(row).toContain(`\`${String(f.default)}\``);
      if (f.whenUnset) expect(row).toContain(`unset (${f.whenUnset})`);
    }
  });

  it("the README's table is the generated one (npx tsx scripts/config-table.ts --write)", () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, "..", "README.md"), "utf8");
    expect(withTable(readme)).toBe(readme);
  });
});
