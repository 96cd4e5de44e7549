/**
 * Glob patterns compiled to regular expressions, for the glob tool, .gitignore rules and path
 * approval rules. Supported: `*` (within one path segment), `?`, `[abc]`/`[!abc]`, `{a,b}`, and
 * `**` as a whole segment (zero or more folders). Paths are "/"-separated and relative.
 */

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** The regular-expression source of `pattern` (no anchors). */
export function globSource(pattern: string): string {
  let out = "";
  let i = 0;
  let braceDepth = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "*") {
      const atSegmentStart = i === 0 || pattern[i - 1] === "/";
      if (pattern[i + 1] === "*" && atSegmentStart && (i + 2 === pattern.length || pattern[i + 2] === "/")) {
        if (i + 2 === pattern.length) {
          out += ".*"; // trailing `**`: everything below
          i += 2;
        } else {
          out += "(?:[^/]*/)*"; // `**/`: zero or more folders
          i += 3;
        }
        continue;
      }
      out += "[^/]*";
      while (pattern[i] === "*") i++;
      continue;
    }
    if (ch === "?") out += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end === -1) out += "\\[";
      else {
        let body = pattern.slice(i + 1, end);
        const negate = body.startsWith("!") || body.startsWith("^");
        if (negate) body = body.slice(1);
        out += `[${negate ? "^" : ""}${body.replace(/\\/g, "\\\\").replace(/\//g, "")}]`;
        i = end + 1;
        continue;
      }
    } else if (ch === "{") {
      braceDepth++;
      out += "(?:";
    } else if (ch === "}" && braceDepth > 0) {
      braceDepth--;
      out += ")";
    } else if (ch === "," && braceDepth > 0) out += "|";
    else if (ch === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1]!);
      i += 2;
      continue;
    } else out += escapeRegExp(ch);
    i++;
  }
  return out + ")".repeat(braceDepth);
}

/** A matcher for whole relative paths. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${globSource(pattern)}$`);
}

export function matchGlob(pattern: string, relPath: string): boolean {
  return globToRegExp(pattern).test(relPath);
}
