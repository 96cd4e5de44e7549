/**
 * Generates a small project from a seed: a Python package tested with `python3 -m unittest` or
 * a JavaScript one tested with `node --test` (open workspaces: often a variant or a script that
 * runs it), two modules of template functions (one maybe in a nested folder), a test file per
 * module (JavaScript: for the first only), a README naming the test command, a .gitignore and
 * sometimes a notes folder. Sometimes one function carries its template's bug, so a test fails.
 * The returned model records every file's text and where each function lies, so task families
 * can plan exact tool calls without reading the disk.
 */
import { FN_TEMPLATES, OPEN_FN_TEMPLATES, type FnTemplate, type Language } from "./functions";
import { ENGLISH_WORDS, openWord, openWords } from "./names";
import { Rng } from "./prng";
import { DOC_DIRS, MODULE_WORDS, NOUNS, PACKAGE_DIRS, PROJECT_WORDS, camelCase, capitalise } from "./words";

export type { Language } from "./functions";

export interface FnInfo {
  template: FnTemplate;
  noun: string;
  /** The name in the module's language (snake_case or camelCase). */
  name: string;
  params: string[];
  /** 1-based lines of the definition, its return line and its last line. */
  defLine: number;
  returnLine: number;
  endLine: number;
  /** The return line's text as written, and as it should be. */
  returnText: string;
  fixedReturnText: string;
  buggy: boolean;
  /** Python: the test method's name (`test_<name>`, or with a few words after it, as people name tests). */
  testName: string;
}

export interface ModuleInfo {
  word: string;
  path: string;
  /** Its test file; null for an untested module. */
  testPath: string | null;
  constName: string;
  constValue: number;
  constLine: number;
  /** JavaScript only: the `module.exports` line. */
  exportsLine: number | null;
  functions: FnInfo[];
}

/**
 * Where a workspace's names come from: the closed word lists (the names every benchmark scenario
 * was written with) or the open space of lib/curriculum/names.ts, where copying is the only way
 * to get a name right.
 */
export type NameSpace = "closed" | "open";

export interface Workspace {
  seed: number;
  names: NameSpace;
  language: Language;
  project: string;
  /** Every file, path → text, in a fixed order. */
  files: Record<string, string>;
  modules: ModuleInfo[];
  testCommand: string;
  /** A plausible command the project does not use. */
  wrongTestCommand: string;
  testCount: number;
  bug: { module: ModuleInfo; fn: FnInfo } | null;
}

export const TEST_COMMANDS: Record<Language, string> = { python: "python3 -m unittest", javascript: "node --test" };
export const WRONG_TEST_COMMANDS: Record<Language, string> = { python: "pytest", javascript: "jest" };

/**
 * An open workspace's test command: the language's plain one, a variant of it, or a shell script
 * with an open name that runs it, so that the command is known only from the README (a model that
 * guesses it from the language is wrong most of the time). Closed workspaces keep the plain one,
 * as every benchmark scenario was written with it.
 */
function openTestCommand(
  rng: Rng,
  lang: Language,
  testPaths: string[],
): { command: string; script: { path: string; text: string } | null } {
  const plain = TEST_COMMANDS[lang];
  const x = rng.next();
  if (x < 0.3) {
    const dir = rng.chance(0.5) ? "scripts/" : "";
    const path = `${dir}${openWord(rng)}.sh`;
    return { command: `sh ${path}`, script: { path, text: `#!/bin/sh\n# Runs the tests.\nexec ${plain} "$@"\n` } };
  }
  if (x < 0.65) return { command: plain, script: null };
  const modules = testPaths.map((p) => p.replace(/\.py$/, ""));
  const variants =
    lang === "python"
      ? [`${plain} -v`, `${plain} discover`, `${plain} discover -v`, `${plain} ${modules.join(" ")}`]
      : [`${plain} ${testPaths.join(" ")}`];
  return { command: rng.pick(variants), script: null };
}

export function fnName(snake: string, lang: Language): string {
  return lang === "python" ? snake : camelCase(snake);
}

function constNameFor(noun: string): string {
  return `DEFAULT_${noun.toUpperCase()}`;
}

/** Lines of one module; function positions are filled into `fns` as they are laid out. */
function moduleLines(lang: Language, project: string, mod: ModuleInfo): string[] {
  const lines: string[] = [];
  const push = (...ls: string[]) => lines.push(...ls);
  if (lang === "python") {
    push(`"""${capitalise(project)} ${mod.word} helpers."""`, "", `${mod.constName} = ${mod.constValue}`);
    mod.constLine = 3;
    for (const fn of mod.functions) {
      push("", "", `def ${fn.name}(${fn.params.join(", ")}):`);
      fn.defLine = lines.length;
      push(fn.returnText);
      fn.returnLine = fn.endLine = lines.length;
    }
  } else {
    push(`// ${capitalise(project)} ${mod.word} helpers.`, "", `const ${mod.constName} = ${mod.constValue};`);
    mod.constLine = 3;
    for (const fn of mod.functions) {
      push("", `function ${fn.name}(${fn.params.join(", ")}) {`);
      fn.defLine = lines.length;
      push(fn.returnText);
      fn.returnLine = lines.length;
      push("}");
      fn.endLine = lines.length;
    }
    push("", `module.exports = { ${[mod.constName, ...mod.functions.map((f) => f.name)].join(", ")} };`);
    mod.exportsLine = lines.length;
  }
  return lines;
}

export function returnLine(lang: Language, expr: string): string {
  return lang === "python" ? `    return ${expr}` : `  return ${expr};`;
}

function testLines(lang: Language, importFrom: string, mod: ModuleInfo): string[] {
  const names = mod.functions.map((f) => f.name);
  if (lang === "python") {
    const lines = [
      "import unittest",
      "",
      `from ${importFrom} import ${names.join(", ")}`,
      "",
      "",
      `class Test${capitalise(mod.word)}(unittest.TestCase):`,
    ];
    mod.functions.forEach((fn, i) => {
      if (i > 0) lines.push("");
      lines.push(`    def ${fn.testName}(self):`);
      for (const c of fn.template.cases(fn.noun))
        lines.push(`        self.assertEqual(${fn.name}(${c.args}), ${c.expected})`);
    });
    lines.push("", "", 'if __name__ == "__main__":', "    unittest.main()");
    return lines;
  }
  const lines = [
    'const test = require("node:test");',
    'const assert = require("node:assert");',
    `const { ${names.join(", ")} } = require("${importFrom}");`,
  ];
  for (const fn of mod.functions) {
    lines.push("", `test("${fn.name}", () => {`);
    for (const c of fn.template.cases(fn.noun))
      lines.push(`  assert.deepStrictEqual(${fn.name}(${c.args}), ${c.expected});`);
    lines.push("});");
  }
  return lines;
}

const join = (lines: string[]) => `${lines.join("\n")}\n`;

/**
 * Open workspaces name most tests for what they check (`test_divide_keeps_the_fraction`, as the
 * example project does), so the function to fix must be read from the failing assertion, not
 * guessed from the test's name: a name such as `divide_keeps` is as likely as `divide` there.
 */
const TEST_SUFFIXES = ["works", "is_right", "handles_small_values", "returns_the_result", "keeps_its_value"];
const TEST_VERBS = ["keeps", "gives", "handles", "returns", "rounds", "checks", "takes", "counts"];
function openTestName(rng: Rng, name: string, names: readonly string[]): string {
  const x = rng.next();
  if (x < 0.35) return `test_${name}`;
  if (x < 0.65) return `test_${name}_${rng.chance(0.5) ? rng.pick(TEST_SUFFIXES) : openWord(rng)}`;
  // What it checks in words, as the example's test does; the word holds no function's name and
  // no name holds the word (a one-word name such as `total` is an English word too).
  let what: string;
  do what = rng.pick(ENGLISH_WORDS);
  while (names.some((n) => what.includes(n) || n.includes(what)));
  return `test_${name}_${rng.pick(TEST_VERBS)}_the_${what}`;
}

/**
 * The README, in one of three shapes (open workspaces use all three; closed ones the first): the
 * test command inline, in a fenced block under a sentence as the example project has it, or
 * under a Tests heading. Whichever shape, copying the command from it is how to run the tests.
 * The fenced shape follows the example project's README through to its last line: where the
 * workspace has a bug, its prose says so and names the function and file a failing test points
 * at, as the example's does.
 */
const README_SHAPES = ["inline", "fenced", "heading"] as const;
type ReadmeShape = (typeof README_SHAPES)[number];

interface ReadmeFacts {
  lang: Language;
  project: string;
  words: string[];
  command: string;
  bug: { fn: string; path: string } | null;
}

function readmeLines(shape: ReadmeShape, { lang, project, words, command, bug }: ReadmeFacts): string[] {
  const title = [`# ${project}`, ""];
  const about = `${capitalise(lang)} helpers for ${words[0]} and ${words[1]}.`;
  if (shape === "fenced") {
    const runtime = lang === "python" ? "plain Python 3" : "plain Node.js";
    const suite = bug
      ? `A small project: ${about.slice(0, -1)}, with one bug and a test suite that catches it.`
      : `A small project: ${about}`;
    return [
      ...title,
      suite,
      "",
      `Run the tests with ${runtime} (no packages needed):`,
      "",
      "```",
      command,
      "```",
      ...(bug ? ["", `One test fails until \`${bug.fn}\` in \`${bug.path}\` is fixed.`] : []),
    ];
  }
  if (shape === "heading") return [...title, about, "", "## Tests", "", "```", command, "```"];
  return [...title, about, "", `Run the tests with \`${command}\`.`];
}

/** The share of an open workspace's functions named by a single word (where one may be). */
const ONE_WORD_NAMES = 0.3;
/**
 * Of those, the share named by their template's own word (`divide`, `average`, as the example's
 * functions are) rather than by an invented one, so that a common word ends a name as often as it
 * starts one (`divide` and `divide_kesh`), and only the source tells which. Common words repeat, so
 * the share is small: each is in at most about 5 % of open workspaces.
 */
const TEMPLATE_WORD_NAMES = 0.25;
/** Words every generated file may hold: a bare function name must not hide inside one. */
const CODE_WORDS = [
  "test",
  "unittest",
  "assert",
  "import",
  "from",
  "return",
  "require",
  "module",
  "exports",
  "function",
  "const",
  "helpers",
  "python",
  "node",
  "README",
  ...TEST_SUFFIXES,
  ...TEST_VERBS,
];
const ENGLISH: ReadonlySet<string> = new Set(ENGLISH_WORDS);

/** Every template's summary, which answers, tasks and notes hold. */
const SUMMARIES = [...FN_TEMPLATES, ...OPEN_FN_TEMPLATES].map((t) => t.summary).join("\n");

/**
 * Whether a function may be named by one word alone: a word that no other word of the workspace,
 * no word every file may hold and no summary contains or is contained in, so that renaming every
 * occurrence of the name touches that function alone. The word is the function's noun where that
 * is invented (no keyword, builtin or template variable is one), or its template's own word,
 * which no other function of the workspace uses (each has a template of its own).
 */
function canNameAlone(word: string, ownNoun: string, others: readonly string[]): boolean {
  const invented = word === ownNoun;
  if (invented && ENGLISH.has(word)) return false;
  if (CODE_WORDS.some((w) => w.includes(word)) || SUMMARIES.includes(word)) return false;
  return others.every((o) => (invented && o === word) || (!o.includes(word) && !word.includes(o)));
}

/**
 * The same seed gives the same workspace; `names` "open" draws every name from the open space and
 * may lay a Python project out flat (modules and tests side by side at the top, as the example
 * project is), with the closed space's draws left exactly as they were.
 */
export function generateWorkspace(seed: number, names: NameSpace = "closed"): Workspace {
  const rng = new Rng(seed);
  const open = names === "open";
  const language: Language = rng.chance(0.5) ? "python" : "javascript";
  const project = open ? openWord(rng) : rng.pick(PROJECT_WORDS);
  const [w1, w2] = (open ? openWords(rng, 2) : rng.sample(MODULE_WORDS, 2)) as [string, string];
  const flat = open && language === "python" && rng.chance(0.5);
  const nested = rng.chance(0.5) && !flat ? rng.pick(PACKAGE_DIRS) : null;
  const templates = rng.shuffle(open ? [...FN_TEMPLATES, ...OPEN_FN_TEMPLATES] : FN_TEMPLATES);
  const nouns = open ? openWords(rng, NOUNS.length) : rng.shuffle(NOUNS);
  const workspaceWords = [project, w1, w2, ...nouns, ...(nested ? [nested] : [])];
  let t = 0;
  const makeModule = (word: string, count: number, dir: string, tested: boolean): ModuleInfo => {
    const noun = nouns[t]!;
    const functions: FnInfo[] = [];
    for (let i = 0; i < count; i++, t++) {
      const template = templates[t % templates.length]!;
      const fnNoun = nouns[(t + 1) % nouns.length]!;
      const expr = template.expr(fnNoun, language);
      const text = returnLine(language, expr);
      // Some open functions are named by one word, as the example's `divide` is: a name the
      // model must copy up to where the source ends it, not complete as a template would.
      let name = template.name(fnNoun);
      if (open && rng.chance(ONE_WORD_NAMES)) {
        const word = rng.chance(TEMPLATE_WORD_NAMES) ? template.id : fnNoun;
        if (canNameAlone(word, fnNoun, workspaceWords)) name = word;
      }
      name = fnName(name, language);
      functions.push({
        template,
        noun: fnNoun,
        name,
        params: template.params,
        defLine: 0,
        returnLine: 0,
        endLine: 0,
        returnText: text,
        fixedReturnText: text,
        buggy: false,
        testName: `test_${name}`,
      });
    }
    const ext = language === "python" ? "py" : "js";
    const testPath = !tested ? null : language === "python" ? `test_${word}.py` : `test/${word}.test.js`;
    return {
      word,
      path: dir ? `${dir}/${word}.${ext}` : `${word}.${ext}`,
      testPath,
      constName: constNameFor(noun),
      constValue: rng.int(2, 9),
      constLine: 0,
      exportsLine: null,
      functions,
    };
  };
  const base = flat ? "" : language === "python" ? project : "src";
  // JavaScript projects test only their first module: node's TAP report is long, and every
  // test it lists costs tokens in each transcript that runs the tests.
  // Open Python modules under test hold two to five functions, as the example's one module holds
  // five: finding the failing function's line among several is part of the task.
  const modules = [
    makeModule(w1, open && language === "python" ? rng.int(2, 5) : 2, base, true),
    makeModule(w2, 2, nested ? `${base}/${nested}` : base, language === "python"),
  ];

  let bug: Workspace["bug"] = null;
  if (rng.chance(0.5)) {
    const module = rng.pick(modules.filter((m) => m.testPath !== null));
    // Never a bug whose line another function has right (`a - b` in a total beside a subtract):
    // each planned edit must match one line.
    const lines = new Set(modules.flatMap((m) => m.functions.map((f) => f.returnText)));
    const fn = rng.pick(
      module.functions.filter((f) => !lines.has(returnLine(language, f.template.buggy(f.noun, language)))),
    );
    fn.buggy = true;
    fn.returnText = returnLine(language, fn.template.buggy(fn.noun, language));
    bug = { module, fn };
  }

  if (open) {
    const names = modules.flatMap((m) => m.functions.map((f) => f.name));
    for (const mod of modules) for (const fn of mod.functions) fn.testName = openTestName(rng, fn.name, names);
  }

  const files: Record<string, string> = {};
  const tests = open
    ? openTestCommand(
        rng,
        language,
        modules.flatMap((m) => (m.testPath ? [m.testPath] : [])),
      )
    : { command: TEST_COMMANDS[language], script: null };
  const testCommand = tests.command;
  files["README.md"] = join(
    readmeLines(open ? README_SHAPES[rng.int(0, 2)]! : "inline", {
      lang: language,
      project,
      words: [w1, w2],
      command: testCommand,
      bug: bug && { fn: bug.fn.name, path: bug.module.path },
    }),
  );
  files[".gitignore"] = language === "python" ? "__pycache__/\n" : "node_modules/\n";
  if (tests.script) files[tests.script.path] = tests.script.text;
  if (language === "python" && !flat) {
    files[`${project}/__init__.py`] = "";
    if (nested) files[`${project}/${nested}/__init__.py`] = "";
  }
  for (const mod of modules) {
    files[mod.path] = join(moduleLines(language, project, mod));
    const importFrom = language === "python" ? mod.path.replace(/\.py$/, "").replace(/\//g, ".") : `../${mod.path}`;
    if (mod.testPath) files[mod.testPath] = join(testLines(language, importFrom, mod));
  }
  if (rng.chance(0.4)) {
    const fn = rng.pick(modules[0]!.functions);
    files[`${rng.pick(DOC_DIRS)}/notes.md`] = join(["# Notes", "", `- \`${fn.name}\` ${fn.template.summary}.`]);
  }
  const testCount = modules.reduce((n, m) => n + (m.testPath ? m.functions.length : 0), 0);
  return {
    seed,
    names,
    language,
    project,
    files,
    modules,
    testCommand,
    wrongTestCommand: WRONG_TEST_COMMANDS[language],
    testCount,
    bug,
  };
}
