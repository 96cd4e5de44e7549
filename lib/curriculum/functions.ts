/**
 * The function templates generated modules are made of: one-line bodies in Python and
 * JavaScript, a plausible one-token bug for each, and test cases whose literals read the same in
 * both languages. Small and closed on purpose: the curriculum's vocabulary follows from them.
 */
import { capitalise } from "./words";

export type Language = "python" | "javascript";

export interface FnCase {
  /** Arguments as source text, valid in both languages. */
  args: string;
  expected: string;
}

export interface FnTemplate {
  id: string;
  /** The snake_case name for a noun. */
  name(noun: string): string;
  params: string[];
  /** The returned expression, correct and with the bug, per language. */
  expr(noun: string, lang: Language): string;
  buggy(noun: string, lang: Language): string;
  cases(noun: string): FnCase[];
  /** "returns the sum of a and b", for answers. */
  summary: string;
}

const same = (py: string, js: string) => (lang: Language) => (lang === "python" ? py : js);

export const FN_TEMPLATES: FnTemplate[] = [
  {
    id: "total",
    name: (n) => `total_${n}s`,
    params: ["a", "b"],
    expr: () => "a + b",
    buggy: () => "a - b",
    cases: () => [{ args: "2, 3", expected: "5" }],
    summary: "returns the sum of a and b",
  },
  {
    id: "count",
    name: (n) => `count_${n}s`,
    params: ["items"],
    expr: (_, l) => same("len(items)", "items.length")(l),
    buggy: (_, l) => same("len(items) - 1", "items.length - 1")(l),
    cases: () => [{ args: "[1, 2, 3]", expected: "3" }],
    summary: "returns how many items there are",
  },
  {
    id: "scale",
    name: (n) => `scale_${n}`,
    params: ["value", "factor"],
    expr: () => "value * factor",
    buggy: () => "value + factor",
    cases: () => [{ args: "3, 4", expected: "12" }],
    summary: "returns value times factor",
  },
  {
    id: "largest",
    name: (n) => `largest_${n}`,
    params: ["values"],
    expr: (_, l) => same("max(values)", "Math.max(...values)")(l),
    buggy: (_, l) => same("min(values)", "Math.min(...values)")(l),
    cases: () => [{ args: "[4, 9, 2]", expected: "9" }],
    summary: "returns the largest value",
  },
  {
    id: "label",
    name: (n) => `${n}_label`,
    params: ["name"],
    expr: (n) => `"${capitalise(n)}: " + name`,
    buggy: (n) => `"${capitalise(n)}:" + name`,
    cases: (n) => [{ args: '"red"', expected: `"${capitalise(n)}: red"` }],
    summary: "returns the name with a label in front",
  },
  {
    id: "double",
    name: (n) => `double_${n}`,
    params: ["n"],
    expr: () => "n * 2",
    buggy: () => "n + 2",
    cases: () => [{ args: "5", expected: "10" }],
    summary: "returns n times two",
  },
  {
    id: "average",
    name: (n) => `average_${n}`,
    params: ["values"],
    expr: (_, l) => same("sum(values) / len(values)", "values.reduce((a, b) => a + b, 0) / values.length")(l),
    buggy: (_, l) =>
      same("sum(values) / (len(values) + 1)", "values.reduce((a, b) => a + b, 0) / (values.length + 1)")(l),
    cases: () => [{ args: "[2, 4, 6]", expected: "4" }],
    summary: "returns the mean of the values",
  },
];

/**
 * Templates only open-name workspaces use (the closed workspaces' draws stay as they were): the
 * example project's kind of bug, an operator that drops the fraction, among them.
 */
export const OPEN_FN_TEMPLATES: FnTemplate[] = [
  {
    id: "divide",
    name: (n) => `divide_${n}`,
    params: ["a", "b"],
    expr: () => "a / b",
    buggy: (_, l) => same("a // b", "Math.floor(a / b)")(l),
    cases: () => [{ args: "7, 2", expected: "3.5" }],
    summary: "returns a over b, fraction kept",
  },
  {
    id: "difference",
    name: (n) => `${n}_difference`,
    // Not a and b: "a - b" is the total template's bug, and each return line must be unique.
    params: ["start", "end"],
    expr: () => "end - start",
    buggy: () => "start - end",
    cases: () => [{ args: "4, 9", expected: "5" }],
    summary: "returns end minus start",
  },
  {
    // The example's `subtract`: its right line is the total template's bug, so which line is
    // wrong follows from the failing function, not from the line's look.
    id: "subtract",
    name: (n) => `subtract_${n}`,
    params: ["a", "b"],
    expr: () => "a - b",
    buggy: () => "b - a",
    cases: () => [{ args: "2, 3", expected: "-1" }],
    summary: "returns a minus b",
  },
  {
    id: "square",
    name: (n) => `square_${n}`,
    params: ["x"],
    expr: () => "x * x",
    buggy: () => "x * 2",
    cases: () => [{ args: "5", expected: "25" }],
    summary: "returns x times itself",
  },
];
