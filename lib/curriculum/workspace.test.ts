import { describe, expect, it } from "vitest";
import { inWrittenWorkspace } from "./test-workspace";
import { TEST_COMMANDS, generateWorkspace, type Workspace } from "./workspace";

/** The first seeds giving each combination of language and bug. */
function sampleWorkspaces(): Workspace[] {
  const wanted = new Map<string, Workspace>();
  for (let seed = 0; wanted.size < 4; seed++) {
    const ws = generateWorkspace(seed);
    const key = `${ws.language}/${ws.bug ? "bug" : "clean"}`;
    if (!wanted.has(key)) wanted.set(key, ws);
  }
  return [...wanted.values()];
}

describe("generated workspaces", () => {
  it("are a pure function of the seed", () => {
    expect(JSON.stringify(generateWorkspace(77))).toBe(JSON.stringify(generateWorkspace(77)));
    expect(generateWorkspace(77).files).not.toEqual(generateWorkspace(78).files);
  });

  it("name their test command in the README, inline, in a fenced block or under a Tests heading", () => {
    const shapes = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const ws = generateWorkspace(seed, "open");
      const readme = ws.files["README.md"]!;
      expect(readme).toContain(ws.testCommand);
      shapes.add(readme.includes("## Tests") ? "heading" : readme.includes("```") ? "fenced" : "inline");
    }
    expect([...shapes].sort()).toEqual(["fenced", "heading", "inline"]);
  });

  it("give open workspaces commands the language does not tell (variants and scripts), and each runs the suite", async () => {
    const open = Array.from({ length: 300 }, (_, i) => generateWorkspace(5_000 + i, "open"));
    const plain = open.filter((ws) => ws.testCommand === TEST_COMMANDS[ws.language]).length / open.length;
    expect(plain).toBeGreaterThan(0.2);
    expect(plain).toBeLessThan(0.5);
    // One clean and one buggy workspace per shape of command (its workspace's own names taken out).
    const shape = (ws: Workspace) =>
      ws.testCommand.startsWith("sh ")
        ? `${ws.language} script`
        : ws.modules.reduce(
            (c, m) => (m.testPath ? c.replace(m.testPath.replace(/\.py$/, ""), "X") : c),
            ws.testCommand,
          );
    const samples = new Map<string, Workspace>();
    for (const ws of open) {
      const key = `${shape(ws)}/${ws.bug === null}`;
      if (!samples.has(key)) samples.set(key, ws);
    }
    expect(samples.size).toBe(2 * 9);
    for (const ws of samples.values()) {
      const result = await inWrittenWorkspace(ws, (bash) => bash(ws.testCommand));
      expect({ cmd: ws.testCommand, success: result.success }).toEqual({
        cmd: ws.testCommand,
        success: ws.bug === null,
      });
      expect(result.output).toContain(
        ws.language === "python" ? `Ran ${ws.testCount} test` : `# tests ${ws.testCount}`,
      );
    }
  }, 60_000);

  it("say in the example's README shape which function and file a failing test points at", () => {
    let hinted = 0;
    for (let seed = 0; seed < 200; seed++) {
      const ws = generateWorkspace(seed, "open");
      const readme = ws.files["README.md"]!;
      if (!readme.includes("(no packages needed):")) continue;
      const hint = readme.match(/One test fails until `(\w+)` in `([\w./]+)` is fixed\./);
      if (ws.bug === null) {
        expect(hint).toBeNull();
        continue;
      }
      hinted++;
      expect(hint?.slice(1)).toEqual([ws.bug.fn.name, ws.bug.module.path]);
      expect(readme).toContain("with one bug and a test suite that catches it.");
    }
    expect(hinted).toBeGreaterThan(10);
  });

  it("name some open functions by one word, invented or their template's own as the example's `divide` is, and no closed one", () => {
    const fns = (kind: "open" | "closed") =>
      Array.from({ length: 300 }, (_, i) => generateWorkspace(3_000 + i, kind))
        .filter((ws) => ws.language === "python")
        .flatMap((ws) => ws.modules.flatMap((m) => m.functions));
    const open = fns("open");
    const oneWord = open.filter((f) => !f.name.includes("_"));
    expect(oneWord.length / open.length).toBeGreaterThan(0.1);
    expect(oneWord.length / open.length).toBeLessThan(0.2);
    const templateWords = oneWord.filter((f) => f.name === f.template.id).length / open.length;
    expect(templateWords).toBeGreaterThan(0.03);
    expect(templateWords).toBeLessThan(0.08);
    expect(fns("closed").every((f) => f.name.includes("_"))).toBe(true);
  });

  it("give open Python projects a tested module of two to five functions, as the example's holds five, and others two", () => {
    const sizes = (kind: "open" | "closed", language: string) =>
      Array.from({ length: 200 }, (_, i) => generateWorkspace(4_000 + i, kind))
        .filter((ws) => ws.language === language)
        .map((ws) => ws.modules[0]!.functions.length);
    expect(new Set(sizes("open", "python"))).toEqual(new Set([2, 3, 4, 5]));
    expect(new Set([...sizes("open", "javascript"), ...sizes("closed", "python")])).toEqual(new Set([2]));
  });

  it("hold a one-word function name only where it names that function (definition, imports, calls, its tests)", () => {
    for (let i = 0; i < 300; i++) {
      const ws = generateWorkspace(5_000 + i, "open");
      for (const fn of ws.modules.flatMap((m) => m.functions).filter((f) => !/[_A-Z]/.test(f.name)))
        for (const [path, text] of Object.entries(ws.files)) {
          // As code writes a name (called, listed, quoted: never a word of prose), or in a test's name.
          const asCode = new RegExp(`(?<![\\w])${fn.name}(?=[(,\`"]|\\s}|$)`, "gm");
          const inTestName = new RegExp(`(?<=test_)${fn.name}(?=[_(])`, "g");
          const asName = (text.match(asCode)?.length ?? 0) + (text.match(inTestName)?.length ?? 0);
          expect(asName, `${ws.seed} ${path}: ${fn.name}`).toBe(text.split(fn.name).length - 1);
        }
    }
  });

  it("name about a third of open tests for what they check in words, so only the assertion shows where the name ends", () => {
    const fns = Array.from({ length: 200 }, (_, i) => generateWorkspace(7_000 + i, "open"))
      .filter((ws) => ws.language === "python")
      .flatMap((ws) => ws.modules.flatMap((m) => m.functions.map((fn) => ({ fn, test: ws.files[m.testPath!]! }))));
    const worded = fns.filter(({ fn }) => new RegExp(`^test_${fn.name}_[a-z]+_the_[a-z]+$`).test(fn.testName));
    expect(worded.length / fns.length).toBeGreaterThan(0.2);
    expect(worded.length / fns.length).toBeLessThan(0.45);
    for (const { fn, test } of worded) expect(test).toContain(`self.assertEqual(${fn.name}(`);
  });

  it("record where each function's lines are", () => {
    for (const ws of sampleWorkspaces()) {
      for (const mod of ws.modules) {
        const lines = ws.files[mod.path]!.split("\n");
        expect(lines[mod.constLine - 1]).toContain(`${mod.constName} = ${mod.constValue}`);
        for (const fn of mod.functions) {
          expect(lines[fn.defLine - 1]).toContain(fn.name);
          expect(lines[fn.returnLine - 1]).toBe(fn.returnText);
        }
      }
    }
  });

  it("pass their own test command unless they carry a bug, which fails exactly its function's test", async () => {
    for (const ws of sampleWorkspaces()) {
      await inWrittenWorkspace(ws, async (bash) => {
        const result = await bash(ws.testCommand);
        expect(result.success).toBe(ws.bug === null);
        if (ws.bug) {
          const failing = ws.language === "python" ? `FAIL: test_${ws.bug.fn.name} ` : `not ok 1 - ${ws.bug.fn.name}`;
          expect(result.output.replace(/not ok \d+/, "not ok 1")).toContain(failing);
        }
        const wrong = await bash(ws.wrongTestCommand);
        expect(wrong.success).toBe(false);
        expect(wrong.output).toContain("command not found");
      });
    }
  }, 60_000);
});
