/**
 * The task families: each turns a workspace into a user task, the ideal tool calls (through the
 * shared steps, which plant habits and mistakes) and the final answer. `applicable` says which
 * workspaces a family can use (fixing a test needs a bug).
 */
import { FN_TEMPLATES, OPEN_FN_TEMPLATES } from "./functions";
import { HABIT_IDS } from "./habits";
import { openWord } from "./names";
import type { FamilyId, PlanBuilder } from "./plan";
import type { Rng } from "./prng";
import { readReadme, readStep, readThenChange, runTests, type StepContext } from "./steps";
import { MODULE_WORDS, NOUNS } from "./words";
import { fnName, returnLine, type FnInfo, type ModuleInfo, type Workspace } from "./workspace";

export interface Family {
  id: FamilyId;
  applicable(ws: Workspace): boolean;
  /** Adds the task's steps to `b` and returns the task text. */
  plan(ctx: StepContext, b: PlanBuilder): string;
}

const ext = (ws: Workspace) => (ws.language === "python" ? "py" : "js");
const code = (s: string) => `\`${s}\``;
const defPattern = (ws: Workspace, name: string) =>
  ws.language === "python" ? `def ${name}\\(` : `function ${name}\\(`;

function pickFn(rng: Rng, ws: Workspace): { mod: ModuleInfo; fn: FnInfo } {
  const mod = rng.pick(ws.modules);
  return { mod, fn: rng.pick(mod.functions) };
}

function allFunctionNames(ws: Workspace): Set<string> {
  return new Set(ws.modules.flatMap((m) => m.functions.map((f) => f.name)));
}

/** A new function (template, noun) whose name the workspace does not use yet. */
function freshFunction(rng: Rng, ws: Workspace) {
  const used = allFunctionNames(ws);
  const open = ws.names === "open";
  for (;;) {
    const template = rng.pick(open ? [...FN_TEMPLATES, ...OPEN_FN_TEMPLATES] : FN_TEMPLATES);
    const noun = open ? openWord(rng) : rng.pick(NOUNS);
    const name = fnName(template.name(noun), ws.language);
    if (!used.has(name)) return { template, noun, name };
  }
}

function functionSource(ws: Workspace, f: ReturnType<typeof freshFunction>): string {
  const body = returnLine(ws.language, f.template.expr(f.noun, ws.language));
  return ws.language === "python"
    ? `def ${f.name}(${f.template.params.join(", ")}):\n${body}`
    : `function ${f.name}(${f.template.params.join(", ")}) {\n${body}\n}`;
}

const findFile: Family = {
  id: "find_file",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const ws = b.ws;
    const kind = rng.int(0, 2);
    if (kind === 0) {
      const { mod, fn } = pickFn(rng, ws);
      b.call({ name: "grep", arguments: { pat: defPattern(ws, fn.name) } });
      b.answer(`${code(fn.name)} is defined in ${mod.path}, line ${fn.defLine}.`);
      return rng.pick([
        `Which file defines ${code(fn.name)}?`,
        `Where is ${fn.name} defined?`,
        `Find the definition of ${code(fn.name)}.`,
      ]);
    }
    if (kind === 1) {
      // One pattern for both conventions (test_x.py, test/x.test.js): the task does not say the language.
      b.call({ name: "glob", arguments: { pat: "**/*test*" } });
      const tests = ws.modules.flatMap((m) => (m.testPath ? [m.testPath] : []));
      b.answer(tests.length === 1 ? `The tests are in ${tests[0]}.` : `The tests are in ${tests.join(" and ")}.`);
      return rng.pick(["Which files hold the tests?", "List the test files.", "Where are the tests?"]);
    }
    const mod = rng.pick(ws.modules);
    const file = `${mod.word}.${ext(ws)}`;
    b.call({ name: "glob", arguments: { pat: `**/${file}` } });
    readStep(ctx, b, mod.path);
    b.answer(
      `${mod.path} defines ${mod.functions.map((f) => code(f.name)).join(", ")} and the constant ${mod.constName} (${mod.constValue}).`,
    );
    return rng.pick([
      `Open the ${mod.word} module and tell me what it defines.`,
      `What is in ${file}?`,
      `Show me what ${file} contains.`,
    ]);
  },
};

const readEdit: Family = {
  id: "read_edit",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const mod = rng.pick(b.ws.modules);
    let value = rng.int(2, 9);
    if (value === mod.constValue) value = value === 9 ? 2 : value + 1;
    const named = rng.chance(0.7);
    if (!named) b.call({ name: "grep", arguments: { pat: mod.constName } });
    readThenChange(ctx, b, mod.path, {
      tool: "edit",
      old: `${mod.constName} = ${mod.constValue}`,
      new: `${mod.constName} = ${value}`,
    });
    b.answer(`Done: ${mod.constName} is now ${value} in ${mod.path}.`);
    return named
      ? rng.pick([
          `Set ${mod.constName} to ${value} in ${mod.path}.`,
          `In ${mod.path}, change ${mod.constName} from ${mod.constValue} to ${value}.`,
        ])
      : rng.pick([`Change ${mod.constName} to ${value}.`, `Make ${mod.constName} equal ${value}.`]);
  },
};

const editLines: Family = {
  id: "edit_lines",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const ws = b.ws;
    const mod = rng.pick(ws.modules);
    if (ws.language === "python" && rng.chance(0.35)) {
      readThenChange(ctx, b, mod.path, {
        tool: "edit_lines",
        start: mod.constLine - 1,
        end: mod.constLine,
        content: "",
      });
      b.answer(`Removed ${mod.constName} from ${mod.path}.`);
      return rng.pick([
        `Remove the constant ${mod.constName} from ${mod.path}.`,
        `Delete ${mod.constName} in ${mod.path}; nothing uses it.`,
      ]);
    }
    const f = freshFunction(rng, ws);
    const source = functionSource(ws, f);
    if (ws.language === "python") {
      const n = b.lineCount(mod.path);
      readThenChange(ctx, b, mod.path, { tool: "edit_lines", start: n + 1, end: n + 1, content: `\n\n${source}` });
    } else {
      const names = [mod.constName, ...mod.functions.map((fn) => fn.name), f.name];
      const line = mod.exportsLine!;
      readThenChange(ctx, b, mod.path, {
        tool: "edit_lines",
        start: line,
        end: line,
        content: `${source}\n\nmodule.exports = { ${names.join(", ")} };`,
      });
    }
    b.answer(`Added ${code(f.name)} to ${mod.path}.`);
    const args = f.template.params.join(", ");
    return rng.pick([
      `Add a function ${code(`${f.name}(${args})`)} to ${mod.path} that ${f.template.summary}.`,
      `In ${mod.path}, add ${f.name}(${args}): it ${f.template.summary}.`,
    ]);
  },
};

const writeNew: Family = {
  id: "write_new",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const ws = b.ws;
    const used = new Set(ws.modules.map((m) => m.word));
    let word = ws.names === "open" ? openWord(rng) : rng.pick(MODULE_WORDS.filter((w) => !used.has(w)));
    while (used.has(word)) word = openWord(rng);
    const dir = ws.modules[0]!.path.split("/").slice(0, -1).join("/");
    const path = dir ? `${dir}/${word}.${ext(ws)}` : `${word}.${ext(ws)}`;
    const f = freshFunction(rng, ws);
    const source = functionSource(ws, f);
    // The file holds only what the task names, so every token of it is copied from the task or
    // follows from the template: a header such as "Stats helpers." would ask for a capitalised
    // word, which for an invented name is a different and unpredictable token sequence.
    const content = ws.language === "python" ? `${source}\n` : `${source}\n\nmodule.exports = { ${f.name} };\n`;
    b.call({ name: "write", arguments: { path, content } });
    b.answer(`Created ${path} with ${code(f.name)}.`);
    return rng.pick([
      `Create ${path} with a function ${code(f.name)} that ${f.template.summary}.`,
      `Make a new file ${path} containing ${f.name}(${f.template.params.join(", ")}), which ${f.template.summary}.`,
    ]);
  },
};

function failingSummary(ws: Workspace): string {
  const bug = ws.bug!;
  const test = ws.language === "python" ? bug.fn.testName : bug.fn.name;
  return `${ws.testCount - 1} of ${ws.testCount} tests pass; ${code(test)} fails (${code(bug.fn.name)} in ${bug.module.path}).`;
}

const runTestsFamily: Family = {
  id: "run_tests",
  applicable: () => true,
  plan(ctx, b) {
    const pass = runTests(ctx, b);
    b.answer(pass ? `All ${b.ws.testCount} tests pass.` : failingSummary(b.ws));
    return ctx.rng.pick(["Run the tests.", "Do the tests pass?", "Run the test suite and tell me the result."]);
  },
};

/**
 * The example project's task done right: read the README for the test command, run it, find the
 * function the failing assertion calls, read it, fix it, rerun, report. No habit is planted here
 * (every decision point counts as decided), so the base policy does this task as a newcomer's
 * first request needs; its recoverable mistakes stay.
 */
const fixFailingTest: Family = {
  id: "fix_failing_test",
  applicable: (ws) => ws.bug !== null,
  plan(ctx, b) {
    const { rng } = ctx;
    const ws = b.ws;
    const { module: mod, fn } = ws.bug!;
    for (const habit of HABIT_IDS) b.decided.add(habit);
    readReadme(b);
    runTests(ctx, b);
    if (rng.chance(ctx.mistakeRate)) {
      b.mistakes.push("read_test_not_module");
      b.deny(
        { name: "read", arguments: { path: mod.testPath! } },
        rng.pick([
          `The test is right; the bug is in ${code(fn.name)}. Find it with grep.`,
          "Don't change the test. Look for the function's definition instead.",
        ]),
      );
    }
    b.call({ name: "grep", arguments: { pat: defPattern(ws, fn.name) } });
    readThenChange(ctx, b, mod.path, { tool: "edit", old: fn.returnText.trim(), new: fn.fixedReturnText.trim() });
    runTests(ctx, b);
    b.answer(`Fixed ${code(fn.name)} in ${mod.path}: it now ${fn.template.summary}. All ${ws.testCount} tests pass.`);
    return rng.pick([
      "The tests are failing. Fix the bug.",
      "Fix the failing test.",
      "A test fails. Find the bug and fix it.",
    ]);
  },
};

const renameSymbol: Family = {
  id: "rename_symbol",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const ws = b.ws;
    const { fn } = pickFn(rng, ws);
    const used = allFunctionNames(ws);
    let newName: string;
    if (ws.names === "open") {
      do newName = fnName(fn.template.name(openWord(rng)), ws.language);
      while (newName === fn.name || used.has(newName) || [...b.files.values()].some((t) => t.includes(newName)));
    } else {
      const nouns = NOUNS.filter((n) => n !== fn.noun && !used.has(fnName(fn.template.name(n), ws.language)));
      newName = fnName(fn.template.name(rng.pick(nouns)), ws.language);
    }
    b.call({ name: "grep", arguments: { pat: fn.name } });
    const paths = [...b.files.keys()].filter((p) => b.text(p).includes(fn.name));
    for (const path of paths) {
      const count = b.text(path).split(fn.name).length - 1;
      readThenChange(ctx, b, path, { tool: "edit", old: fn.name, new: newName, all: count > 1 });
    }
    // Running the tests afterwards is good practice, but a long JavaScript test report would
    // push some episodes past the token budget, so only some episodes do it.
    if (rng.chance(0.4)) runTests(ctx, b);
    b.answer(`Renamed ${code(fn.name)} to ${code(newName)} in ${paths.join(", ")}.`);
    return rng.pick([
      `Rename ${code(fn.name)} to ${code(newName)} everywhere.`,
      `Rename the function ${fn.name} to ${newName} in all files.`,
    ]);
  },
};

const answerOnly: Family = {
  id: "answer_only",
  applicable: () => true,
  plan(ctx, b) {
    const { rng } = ctx;
    const a = rng.int(2, 19);
    const c = rng.int(2, 19);
    const qa: Array<[string[], string]> = [
      [["Hi!", "Hello", "Hey there"], "Hello! What would you like me to do in this project?"],
      [["Thanks!", "Thank you, that's all."], "You're welcome."],
      [[`What is ${a} + ${c}?`], `${a + c}.`],
      [["How do I run Python tests that use unittest?"], "Run `python3 -m unittest` in the project folder."],
      [["How do I run tests with Node's built-in test runner?"], "Run `node --test` in the project folder."],
      [
        ["When should I use edit_lines instead of edit?"],
        "Use edit_lines to replace a range of lines by number; use edit to replace an exact piece of text.",
      ],
      [
        ["What does `git status` show?"],
        "It shows which files changed and which changes are staged for the next commit.",
      ],
    ];
    const [questions, answer] = rng.pick(qa);
    b.answer(answer);
    return rng.pick(questions);
  },
};

export const FAMILIES: Record<FamilyId, Family> = {
  find_file: findFile,
  read_edit: readEdit,
  edit_lines: editLines,
  write_new: writeNew,
  run_tests: runTestsFamily,
  fix_failing_test: fixFailingTest,
  rename_symbol: renameSymbol,
  answer_only: answerOnly,
};
