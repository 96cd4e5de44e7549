import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { executeTool } from "@/lib/tools";
import { seedFromExample } from "@/lib/workspaces/seed";
import {
  changedPath,
  isExactFirstReply,
  isMadeUpSuccess,
  isValidReply,
  saysTestsPass,
  share,
  testRunPassed,
} from "./agent";
import { EXAMPLE_TEST_COMMAND } from "./agent-example";

describe("bench:agent's judgement of a reply", () => {
  it("counts a plain answer and one schema-valid call of a known tool as valid, and nothing else", () => {
    expect(isValidReply([])).toBe(true);
    expect(isValidReply([{ name: "read", arguments: { path: "a.py" } }])).toBe(true);
    expect(isValidReply(null)).toBe(false);
    expect(isValidReply([{ name: "run", arguments: { cmd: "ls" } }])).toBe(false);
    expect(isValidReply([{ name: "read", arguments: {} }])).toBe(false);
    expect(
      isValidReply([
        { name: "read", arguments: { path: "a.py" } },
        { name: "read", arguments: { path: "b.py" } },
      ]),
    ).toBe(false);
  });

  it("calls a first reply exact only when tool and every argument match the plan, in any key order", () => {
    const planned = { name: "edit" as const, arguments: { path: "a.py", old: "x = 1", new: "x = 2" } };
    expect(
      isExactFirstReply([{ name: "edit", arguments: { new: "x = 2", old: "x = 1", path: "a.py" } }], planned),
    ).toBe(true);
    expect(
      isExactFirstReply([{ name: "edit", arguments: { path: "b.py", old: "x = 1", new: "x = 2" } }], planned),
    ).toBe(false);
    expect(isExactFirstReply([], null)).toBe(true);
    expect(isExactFirstReply([{ name: "read", arguments: { path: "a.py" } }], null)).toBe(false);
  });
});

describe("bench:agent's judgement of a final answer", () => {
  it("flags a claimed change when no call changed a file", () => {
    expect(isMadeUpSuccess("Created ledger/prices.py with `total_items`.", new Set())).toBe(true);
    expect(isMadeUpSuccess("Done: DEFAULT_CUP is now 4 in a.py.", new Set())).toBe(true);
  });

  it("flags a claimed change naming a file no call changed, and accepts one naming only changed files", () => {
    const changed = new Set(["calculator.py"]);
    expect(isMadeUpSuccess("Fixed `divide` in calculator.py. All 6 tests pass.", changed)).toBe(false);
    expect(isMadeUpSuccess("Fixed `divide` in meadow/text.py.", changed)).toBe(true);
  });

  it("does not count a report that claims no change", () => {
    expect(isMadeUpSuccess("The tests are in test_calculator.py.", new Set())).toBe(false);
    expect(isMadeUpSuccess("5 of 6 tests pass; `test_divide` fails.", new Set())).toBe(false);
    expect(
      isMadeUpSuccess("It shows which files changed and which changes are staged for the next commit.", new Set()),
    ).toBe(false);
  });

  it("reads 'the tests pass' only from an answer that mentions no failure", () => {
    expect(saysTestsPass("Fixed `divide` in calculator.py. All 6 tests pass.")).toBe(true);
    expect(saysTestsPass("5 of 6 tests pass; `test_divide` fails.")).toBe(false);
    expect(saysTestsPass("Done.")).toBe(false);
  });

  it("knows which calls change which file", () => {
    expect(changedPath({ name: "edit", arguments: { path: "./a.py" } })).toBe("a.py");
    expect(changedPath({ name: "write", arguments: { path: "/workspace/b.js" } })).toBe("b.js");
    expect(changedPath({ name: "read", arguments: { path: "a.py" } })).toBeNull();
  });

  it("rounds shares to three decimals and calls 0 of 0 zero", () => {
    expect(share(2, 3)).toBe(0.667);
    expect(share(0, 0)).toBe(0);
  });
});

describe("the example project's test run", () => {
  it("fails in the sandbox as shipped and passes once `divide` keeps the fraction", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-agent-example-"));
    try {
      await seedFromExample(dir, "calculator");
      const ctx = { workspace: dir, sandbox: { mode: "bwrap" as const } };
      const before = await executeTool("bash", { cmd: EXAMPLE_TEST_COMMAND }, ctx);
      expect(testRunPassed(before.output, before.success ? 0 : before.exitCode)).toBe(false);
      const file = path.join(dir, "calculator.py");
      await fs.writeFile(file, (await fs.readFile(file, "utf8")).replace("a // b", "a / b"));
      const after = await executeTool("bash", { cmd: EXAMPLE_TEST_COMMAND }, ctx);
      expect(testRunPassed(after.output, after.success ? 0 : after.exitCode)).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
