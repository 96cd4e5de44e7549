import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatDuration, say, step, type Terminal } from "./status-lines";

function terminal(isTTY: boolean): Terminal & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, write: (t) => void chunks.push(t), text: () => chunks.join("") };
}

describe("formatDuration", () => {
  it("reads as milliseconds, seconds, then minutes and seconds", () => {
    expect([850, 4_249, 59_940, 72_400, 245_000].map(formatDuration)).toEqual([
      "850 ms",
      "4.2 s",
      "59.9 s",
      "1 min 12 s",
      "4 min 5 s",
    ]);
  });
});

describe("step lines", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("off a terminal, a step is one line: its label at once, its outcome when it ends", () => {
    const term = terminal(false);
    const migrating = step(term, "migrating the database");
    expect(term.text()).toBe("continualcode: migrating the database … ");
    vi.advanceTimersByTime(850);
    migrating.end(`done in ${formatDuration(migrating.elapsedMs())}`);
    expect(term.text()).toBe("continualcode: migrating the database … done in 850 ms\n");
  });

  it("off a terminal, a long step's line grows by the time elapsed every half minute", () => {
    const term = terminal(false);
    const compiling = step(term, "  compiling");
    vi.advanceTimersByTime(65_000);
    compiling.end("done in 1 min 5 s");
    expect(term.text()).toBe("continualcode:   compiling … 30.0 s … 1 min 0 s … done in 1 min 5 s\n");
  });

  it("off a terminal, a warning printed during a step gets lines of its own", () => {
    const term = terminal(false);
    const compiling = step(term, "  compiling");
    compiling.print("Warning: something at its source");
    vi.advanceTimersByTime(31_000);
    compiling.end("done in 31 s");
    expect(term.text().split("\n")).toEqual([
      "continualcode:   compiling … ",
      "Warning: something at its source",
      "continualcode:   compiling … 30.0 s … done in 31 s",
      "",
    ]);
  });

  it("on a terminal, a step redraws its line each second with the time elapsed and ends it with the outcome", () => {
    const term = terminal(true);
    const generating = step(term, "  generating pages");
    vi.advanceTimersByTime(2_000);
    generating.update("  generating pages 3/4");
    generating.end("done in 2.0 s");
    expect(term.text()).toBe(
      [
        "\r\x1b[Kcontinualcode:   generating pages … 0 ms",
        "\r\x1b[Kcontinualcode:   generating pages … 1.0 s",
        "\r\x1b[Kcontinualcode:   generating pages … 2.0 s",
        "\r\x1b[Kcontinualcode:   generating pages 3/4 … 2.0 s",
        "\r\x1b[Kcontinualcode:   generating pages 3/4 … done in 2.0 s\n",
      ].join(""),
    );
  });

  it("an ended step writes nothing more", () => {
    const term = terminal(true);
    const done = step(term, "checking");
    done.end("ok");
    const before = term.text();
    vi.advanceTimersByTime(5_000);
    done.end("again");
    expect(term.text()).toBe(before);
  });

  it("say writes one whole line", () => {
    const term = terminal(false);
    say(term, "serving at http://localhost:3000");
    expect(term.text()).toBe("continualcode: serving at http://localhost:3000\n");
  });
});
