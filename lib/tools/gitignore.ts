/**
 * A practical subset of .gitignore: globs, `**`, `!` negation, trailing `/` (folders only),
 * anchoring (a leading or inner `/` ties a pattern to the .gitignore's folder), `#` comments and
 * `\#`/`\!` escapes. Rules from deeper .gitignore files are applied after shallower ones, and the
 * last matching rule wins, as in git.
 */
import { globSource } from "./glob-match";

export type IgnoreRule = { negate: boolean; dirOnly: boolean; regex: RegExp };

/** The rules of one .gitignore, with `base` the workspace-relative folder it lives in ("" = root). */
export type IgnoreLevel = { base: string; rules: IgnoreRule[] };

export function parseGitignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split("\n")) {
    let line = rawLine.replace(/\r$/, "");
    if (line === "" || line.startsWith("#")) continue;
    // Trailing spaces are ignored unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, "");
    if (line === "") continue;
    let negate = false;
    if (line.startsWith("!")) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith("\\!") || line.startsWith("\\#")) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith("/")) {
      dirOnly = true;
      line = line.replace(/\/+$/, "");
    }
    if (line === "") continue;
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    const source = globSource(line);
    rules.push({ negate, dirOnly, regex: new RegExp(anchored ? `^${source}$` : `^(?:.*/)?${source}$`) });
  }
  return rules;
}

/** Is `relPath` (workspace-relative) ignored by the levels, outermost first? */
export function isIgnored(levels: IgnoreLevel[], relPath: string, isDir: boolean): boolean {
  let ignored = false;
  for (const level of levels) {
    let sub: string;
    if (level.base === "") sub = relPath;
    else if (relPath.startsWith(`${level.base}/`)) sub = relPath.slice(level.base.length + 1);
    else continue;
    for (const rule of level.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(sub)) ignored = !rule.negate;
    }
  }
  return ignored;
}
