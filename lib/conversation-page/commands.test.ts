import { expect, it } from "vitest";
import { commandOf } from "./commands";

it("only the exact commands are commands; everything else is a message", () => {
  expect(["/c", " /metrics ", "/q", "exit"].map(commandOf)).toEqual(["clear", "metrics", "quit", "quit"]);
  expect(["/c please", "/clear", "/Q", "exit now", "fix /c handling"].map(commandOf)).toEqual([
    null,
    null,
    null,
    null,
    null,
  ]);
});

it("/rewind and /undo are commands only as the whole message", () => {
  expect(["/rewind", " /undo "].map(commandOf)).toEqual(["rewind", "undo_rewind"]);
  expect(["/rewind 2", "undo", "/undo that"].map(commandOf)).toEqual([null, null, null]);
});
