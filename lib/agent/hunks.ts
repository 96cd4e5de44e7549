/**
 * A proposed file change as separate hunks, so a reviewer can accept some and reject others, and
 * the file ends up holding exactly the accepted ones. Lines keep their terminators ("\n", "\r\n"
 * or none on the last line), so applying any choice of hunks reproduces the bytes exactly: all
 * accepted gives `after`, none gives `before`. A hunk is one run of changed lines with unchanged
 * lines on both sides; the diff is Myers' (the shortest edit script), after trimming the common
 * head and tail so a small change to a large file costs little.
 */

export type Hunk = {
  /** 0-based position among the call's hunks (what a review names). */
  index: number;
  /** 0-based first line in `before` the hunk replaces, and those lines. */
  beforeStart: number;
  removed: string[];
  /** 0-based first line in `after` the hunk's new lines start at, and those lines. */
  afterStart: number;
  added: string[];
};

/** Lines with their terminators: joining them gives the text back exactly. */
export function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

type Op = { kind: "same" | "del" | "add"; line: string };

/**
 * Past this many changed lines the search stops and the rest is one replacement: the trace is
 * quadratic in the edit distance, and a rewrite that large is one change to a reviewer anyway.
 */
const MAX_EDIT_DISTANCE = 4_000;

/** Myers' shortest edit script between two line arrays (or one replacement past the limit). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v for k in [-d-1, d+1] as it was when round d began.
  const trace: Int32Array[] = [];
  const at = (d: number, k: number) => trace[d]![k + d + 1]!;
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found)
    return [...a.map((line) => ({ kind: "del" as const, line })), ...b.map((line) => ({ kind: "add" as const, line }))];
  // Walk the trace back from the end, collecting the script in reverse.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const k = x - y;
    const prevK = k === -d || (k !== d && at(d, k - 1) < at(d, k + 1)) ? k + 1 : k - 1;
    const prevX = at(d, prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: "same", line: a[--x]! });
      y--;
    }
    if (x === prevX) ops.push({ kind: "add", line: b[--y]! });
    else ops.push({ kind: "del", line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: "same", line: a[--x]! });
    y--;
  }
  return ops.reverse();
}

/** The hunks that turn `before` into `after`, in file order. */
export function splitHunks(before: string, after: string): Hunk[] {
  const a = linesOf(before);
  const b = linesOf(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops = editScript(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  const hunks: Hunk[] = [];
  let ai = head;
  let bi = head;
  let open: Hunk | null = null;
  for (const op of ops) {
    if (op.kind === "same") {
      open = null;
      ai++;
      bi++;
      continue;
    }
    if (!open) {
      open = { index: hunks.length, beforeStart: ai, removed: [], afterStart: bi, added: [] };
      hunks.push(open);
    }
    if (op.kind === "del") {
      open.removed.push(op.line);
      ai++;
    } else {
      open.added.push(op.line);
      bi++;
    }
  }
  return hunks;
}

/**
 * `before` with exactly the accepted hunks applied (`accepted[i]` for hunk i). The hunks must be
 * `splitHunks(before, …)`'s: each replaces its own lines of `before`, and they never overlap.
 */
export function applyHunks(before: string, hunks: readonly Hunk[], accepted: readonly boolean[]): string {
  if (accepted.length !== hunks.length)
    throw new Error(`a choice for each of the ${hunks.length} hunks is needed, got ${accepted.length}`);
  const a = linesOf(before);
  const out: string[] = [];
  let at = 0;
  for (const hunk of hunks) {
    if (hunk.beforeStart < at || hunk.beforeStart + hunk.removed.length > a.length)
      throw new Error(`hunk ${hunk.index} does not fit the file`);
    out.push(...a.slice(at, hunk.beforeStart));
    const own = a.slice(hunk.beforeStart, hunk.beforeStart + hunk.removed.length);
    if (own.some((line, i) => line !== hunk.removed[i])) throw new Error(`hunk ${hunk.index} does not match the file`);
    out.push(...(accepted[hunk.index] ? hunk.added : hunk.removed));
    at = hunk.beforeStart + hunk.removed.length;
  }
  out.push(...a.slice(at));
  return out.join("");
}

const shown = (line: string) => line.replace(/\r?\n$/, "");

/** One hunk as a unified-diff block: `@@ -12,2 +12,3 @@` then its `-` and `+` lines. */
export function formatHunk(hunk: Hunk): string {
  const range = (start: number, count: number) => `${count === 0 ? start : start + 1},${count}`;
  const noEol = (lines: string[]) =>
    lines.length > 0 && !/\n$/.test(lines.at(-1)!) ? ["\\ No newline at end of file"] : [];
  return [
    `@@ -${range(hunk.beforeStart, hunk.removed.length)} +${range(hunk.afterStart, hunk.added.length)} @@`,
    ...hunk.removed.map((l) => `-${shown(l)}`),
    ...noEol(hunk.removed),
    ...hunk.added.map((l) => `+${shown(l)}`),
    ...noEol(hunk.added),
  ].join("\n");
}

/** Every hunk from `before` to `after` as unified-diff blocks ("" when they are the same). */
export function unifiedDiff(before: string, after: string): string {
  return splitHunks(before, after).map(formatHunk).join("\n");
}
