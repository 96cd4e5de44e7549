/**
 * The command's own lines ("continualcode: migrating the database … done in 850 ms"), one per
 * phase of a start, so that a first start which builds for minutes says what it is doing. They go
 * to stderr: stdout carries the server's JSON logs, which a collector parses line by line.
 * On a terminal a running step redraws its line with the time elapsed; anywhere else (a pipe, a
 * log file) nothing is ever rewritten: the step's line grows by the time elapsed every half
 * minute and ends with the outcome ("compiling … 30.0 s … 1 min 0 s … done in 1 min 16 s").
 */

export type Terminal = { write(text: string): void; readonly isTTY: boolean };

export const PREFIX = "continualcode: ";

/** Off a terminal, a long step says it is still running this often. */
const HEARTBEAT_MS = 30_000;
const CLEAR_LINE = "\r\x1b[K";

/** The process's stderr as a Terminal. */
export function stderrTerminal(): Terminal {
  return { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true };
}

/** "850 ms", "4.2 s", "1 min 12 s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** One whole line. */
export function say(term: Terminal, text: string): void {
  term.write(`${PREFIX}${text}\n`);
}

export type Step = {
  /** Replaces what follows the label while the step runs ("generating pages 3/21"). */
  update(label: string): void;
  /** Prints other output (a warning) as its own lines without breaking the step's line. */
  print(text: string): void;
  elapsedMs(): number;
  /** Ends the step with its outcome: "done in 850 ms", "none yet". */
  end(outcome: string): void;
};

/**
 * A step that may take a while. It shows `label …` at once (the process may be too busy to
 * print anything later: PGlite's first open blocks the event loop for seconds) and completes the
 * same line with its outcome, unless other output came in between.
 */
export function step(term: Terminal, initialLabel: string): Step {
  const started = Date.now();
  let label = initialLabel;
  /** Off a terminal: the step's first line is written but not yet ended. */
  let open = false;
  let lastHeartbeat = started;
  let ended = false;
  const elapsedMs = () => Date.now() - started;
  const closeLine = () => {
    if (open) term.write("\n");
    open = false;
  };

  const redraw = () => term.write(`${CLEAR_LINE}${PREFIX}${label} … ${formatDuration(elapsedMs())}`);
  const tick = () => {
    if (term.isTTY) return redraw();
    if (Date.now() - lastHeartbeat < HEARTBEAT_MS) return;
    lastHeartbeat = Date.now();
    if (!open) {
      term.write(`${PREFIX}${label} … `);
      open = true;
    }
    term.write(`${formatDuration(elapsedMs())} … `);
  };
  // unref: a forgotten step must never keep the process alive.
  const timer = setInterval(tick, 1_000);
  timer.unref();
  if (term.isTTY) redraw();
  else {
    term.write(`${PREFIX}${label} … `);
    open = true;
  }

  return {
    update(next) {
      label = next;
      if (term.isTTY) redraw();
    },
    print(text) {
      if (term.isTTY) term.write(CLEAR_LINE);
      closeLine();
      term.write(text.endsWith("\n") ? text : `${text}\n`);
      if (term.isTTY && !ended) redraw();
    },
    elapsedMs,
    end(outcome) {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      if (open) {
        term.write(`${outcome}\n`);
        open = false;
      } else {
        if (term.isTTY) term.write(CLEAR_LINE);
        say(term, `${label} … ${outcome}`);
      }
    },
  };
}
