import { expect, it } from "vitest";
import { AGENT_EVENT_TYPES } from "@/lib/agent/events";
import { SESSION_EVENT_TYPES } from "./event-types";

it("the browser listens to every event type the agent emits", () => {
  expect([...SESSION_EVENT_TYPES].sort()).toEqual([...AGENT_EVENT_TYPES].sort());
});
