import { describe, expect, it, vi } from "vitest";
import { createLogger, logToStderr, redact } from "./log";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(l) });
  return { logger, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("log", () => {
  it("writes one JSON object per line with ts, level, msg and the fields", () => {
    const { logger, records } = capture("debug");
    logger.info("step done", { step: 3, "loss/total": 0.25 });
    const [rec] = records();
    expect(typeof rec!.ts).toBe("string");
    expect(new Date(rec!.ts as string).toString()).not.toBe("Invalid Date");
    expect({ ...rec, ts: undefined }).toEqual({
      ts: undefined,
      level: "info",
      msg: "step done",
      step: 3,
      "loss/total": 0.25,
    });
  });

  it("drops lines below the level", () => {
    const { logger, records } = capture("warn");
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      ["warn", "c"],
      ["error", "d"],
    ]);
  });

  it("a child adds its fields to every line, and a line's own fields win", () => {
    const { logger, records } = capture();
    const child = logger.child({ conversationId: "c1", userId: "u1" }).child({ part: "agent" });
    child.info("sampled", { userId: "u2" });
    expect(records()[0]).toMatchObject({ conversationId: "c1", userId: "u2", part: "agent", msg: "sampled" });
  });

  it("never prints secrets, by field name or by the shape of the value", () => {
    const { logger } = capture();
    const lines: string[] = [];
    const l = createLogger({ write: (x) => lines.push(x) });
    l.info("config", {
      config: { tinkerApiKey: "abc123", temperature: 0.7, nested: { password: "hunter2", apiKey: "k" } },
      headers: { authorization: "Bearer xyz", cookie: "s=1" },
      note: "tml-abcdef",
      sdpo_tokens: 42,
    });
    logger.info("unused");
    const out = lines.join("\n");
    for (const secret of ["abc123", "hunter2", "Bearer xyz", "s=1", "tml-abcdef", '"k"']) {
      expect(out).not.toContain(secret);
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ sdpo_tokens: 42, config: { temperature: 0.7 } });
  });

  it("errors are logged with their name and message", () => {
    expect(redact({ err: new TypeError("bad") })).toMatchObject({
      err: { name: "TypeError", message: "bad" },
    });
  });
});

describe("logToStderr", () => {
  it("sends the default loggers' lines to stderr, so a command's stdout holds only its result", () => {
    const out: string[] = [];
    const err: string[] = [];
    const spy = (stream: NodeJS.WriteStream, into: string[]) =>
      vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
        into.push(String(chunk));
        return true;
      });
    const stdout = spy(process.stdout, out);
    const stderr = spy(process.stderr, err);
    try {
      createLogger().info("before");
      logToStderr();
      createLogger().info("after");
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(out.map((l) => JSON.parse(l).msg)).toEqual(["before"]);
    expect(err.map((l) => JSON.parse(l).msg)).toEqual(["after"]);
  });
});
