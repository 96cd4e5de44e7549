/**
 * What edit and edit_lines do to a file's text, as pure functions: the tools apply them to the
 * file they read, and the conversation page's preview applies them to the same text, so the diff a
 * person approves is what the tool writes. Failures come back as reasons; each caller words them.
 *
 * edit: when `old` is not found and EVERY one of its lines carries a read-style line-number prefix
 * ("12| ", "12- ", "12+ "), the prefixes are stripped and the search is retried (and `new` is
 * stripped the same way when all its lines carry them); a real code line that merely starts with
 * a number is never touched this way. In a CRLF file, an LF `old` also matches its CRLF form.
 *
 * edit_lines: lines start..end (1-based, inclusive) are replaced; start = end = last line + 1
 * appends; replacement lines take the file's terminator; a last line without a newline keeps
 * that shape.
 */
import { splitLines } from "./limits";

/** read's "12| " (also "12|" on a blank line) or a diff preview's "12- " / "12+ "; never "3 + 4". */
const LINE_PREFIX = /^\s*\d+(?:\| ?|[+-](?: |$))/;

/** `text` without line-number prefixes, or null unless every line has one (a final empty line aside). */
function stripLinePrefixes(text: string): string | null {
  const lines = text.split("\n");
  const considered = lines.at(-1) === "" ? lines.slice(0, -1) : lines;
  if (considered.length === 0 || !considered.every((line) => LINE_PREFIX.test(line))) return null;
  return lines.map((line) => line.replace(LINE_PREFIX, "")).join("\n");
}

/** The file's line terminator, judged by its first line (LF for files without one). */
function eolOf(lines: string[]): string {
  return lines[0]?.endsWith("\r\n") ? "\r\n" : "\n";
}

function countOf(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

export type EditOutcome =
  | { ok: true; text: string; count: number; strippedPrefixes: boolean }
  | { ok: false; reason: "empty_old" | "not_found" | "unchanged" }
  | { ok: false; reason: "ambiguous"; count: number };

export function applyEdit(text: string, old: string, replacement: string, all: boolean): EditOutcome {
  if (old === "") return { ok: false, reason: "empty_old" };
  let oldText = old;
  let newText = replacement;
  let count = countOf(text, oldText);
  let strippedPrefixes = false;
  if (count === 0) {
    const stripped = stripLinePrefixes(oldText);
    if (stripped !== null && countOf(text, stripped) > 0) {
      oldText = stripped;
      newText = stripLinePrefixes(newText) ?? newText;
      count = countOf(text, oldText);
      strippedPrefixes = true;
    }
  }
  if (count === 0 && text.includes("\r\n") && !oldText.includes("\r")) {
    const crlf = oldText.replace(/\n/g, "\r\n");
    if (countOf(text, crlf) > 0) {
      oldText = crlf;
      newText = newText.replace(/\r?\n/g, "\r\n");
      count = countOf(text, oldText);
    }
  }
  if (count === 0) return { ok: false, reason: "not_found" };
  if (count > 1 && !all) return { ok: false, reason: "ambiguous", count };
  if (oldText === newText) return { ok: false, reason: "unchanged" };
  const updated = all ? text.split(oldText).join(newText) : text.replace(oldText, () => newText);
  return { ok: true, text: updated, count, strippedPrefixes };
}

export type EditLinesOutcome =
  | { ok: true; text: string }
  | { ok: false; reason: "bad_range" | "start_past_end" | "append_range" | "end_past_end"; lines: number };

export function applyEditLines(text: string, start: number, end: number, content: string): EditLinesOutcome {
  const lines = splitLines(text);
  const n = lines.length;
  if (start < 1 || end < start) return { ok: false, reason: "bad_range", lines: n };
  if (start > n + 1) return { ok: false, reason: "start_past_end", lines: n };
  const appending = start === n + 1;
  if (appending && end !== start) return { ok: false, reason: "append_range", lines: n };
  if (!appending && end > n) return { ok: false, reason: "end_past_end", lines: n };
  const eol = eolOf(lines);
  const replacement = content === "" ? [] : splitLines(content.replace(/\r?\n/g, eol));
  const last = replacement.length - 1;
  if (last >= 0 && !replacement[last]!.endsWith("\n")) replacement[last] += eol;
  const before = lines.slice(0, start - 1);
  // Appending after a last line that has no newline: end that line first.
  if (appending && n > 0 && !before[n - 1]!.endsWith("\n")) before[n - 1] += eol;
  const after = appending ? [] : lines.slice(end);
  // Replacing the last line of a file that had no final newline keeps it that way.
  const hadFinalNewline = n === 0 || lines[n - 1]!.endsWith("\n");
  if (!appending && after.length === 0 && !hadFinalNewline && replacement.length > 0) {
    replacement[last] = replacement[last]!.replace(/\r?\n$/, "");
  }
  return { ok: true, text: [...before, ...replacement, ...after].join("") };
}
