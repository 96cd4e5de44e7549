import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { toolResultText } from "@/lib/agent/tool-messages";
import { createQwen3Renderer } from "@/lib/chat/qwen3";
import { loadQwen3Tokenizer } from "@/lib/chat/tokenizer";
import { loadQwen3ByteLevel, type ByteLevel } from "@/lib/chat/trimmed-vocab";
import { pyJson } from "@/lib/chat/py-json";
import type { AssistantMessage, Message, Renderer } from "@/lib/chat/types";
import { generateCurriculum, recordsToJsonl } from "./dataset";
import { planEpisodes } from "./episodes";
import type { Call } from "./plan";
import { clearToolCache, runCall, runEpisode, writeWorkspace, type RanEpisode } from "./runner";
import { generateWorkspace } from "./workspace";

let renderer: Renderer;
let byteLevel: ByteLevel;
let ran: RanEpisode[];

beforeAll(async () => {
  [renderer, byteLevel] = await Promise.all([loadQwen3Tokenizer().then(createQwen3Renderer), loadQwen3ByteLevel()]);
  ran = [];
  for (const episode of planEpisodes({ seed: 7, episodes: 24 })) ran.push(await runEpisode(episode, renderer));
}, 120_000);

const generate = (seed: number) => {
  clearToolCache(); // each run executes every call afresh
  return generateCurriculum({ seed, episodes: 12, maxTokens: 4096, concurrency: 3, renderer, byteLevel }).then((g) =>
    recordsToJsonl(g.records),
  );
};

/** The assistant messages and the calls they propose, in order. */
const assistants = (messages: Message[]) => messages.filter((m): m is AssistantMessage => m.role === "assistant");

describe("the curriculum", () => {
  it("writes a byte-identical dataset for the same seed, and a different one for another seed", async () => {
    const [a, b, c] = [await generate(3), await generate(3), await generate(4)];
    expect(a.length).toBeGreaterThan(1000);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  }, 120_000);

  it("re-parses every assistant turn of every transcript into the planned tool calls and answers", () => {
    const imEnd = renderer.tokenizer.idOf("<|im_end|>");
    for (const episode of ran) {
      type Turn = { call: Call } | { answer: string };
      const planned = episode.plan.steps.flatMap((s): Turn[] =>
        s.kind === "call" || s.kind === "deny" ? [{ call: s.call }] : s.kind === "answer" ? [{ answer: s.text }] : [],
      );
      const turns: number[][] = [];
      episode.weights.forEach((w, i) => {
        if (w !== 1) return;
        if (i === 0 || episode.weights[i - 1] !== 1) turns.push([]);
        turns.at(-1)!.push(episode.tokens[i]!);
      });
      expect(turns.length).toBe(planned.length);
      turns.forEach((turn, i) => {
        expect(turn.at(-1)).toBe(imEnd);
        const parsed = renderer.parseCompletion(turn, "stop");
        if (parsed.kind !== "message")
          throw new Error(`turn ${i} of ${episode.plan.family} did not parse: ${parsed.detail}`);
        const want = planned[i]!;
        if ("call" in want) {
          expect(parsed.message.toolCalls?.map((c) => ({ name: c.name, arguments: c.arguments }))).toEqual([want.call]);
        } else {
          expect(parsed.message.toolCalls ?? []).toEqual([]);
          expect(parsed.message.content).toBe(want.answer);
        }
      });
    }
  });

  it("weights exactly the assistant turns: each weighted run follows an assistant header and is that turn's text", () => {
    const decode = (ids: number[]) => renderer.tokenizer.decode(ids);
    for (const episode of ran) {
      const text = decode(episode.tokens);
      const starts: number[] = [];
      episode.weights.forEach((w, i) => {
        if (w === 1 && (i === 0 || episode.weights[i - 1] === 0)) starts.push(i);
      });
      const turns = assistants(episode.messages);
      expect(starts.length).toBe(turns.length);
      // Headers of assistant turns are exactly as many as the weighted runs, and each run starts right after one.
      expect(text.split("<|im_start|>assistant\n").length - 1).toBe(turns.length);
      const imStart = renderer.tokenizer.idOf("<|im_start|>");
      for (const start of starts) {
        const header = episode.tokens.lastIndexOf(imStart, start);
        expect(decode(episode.tokens.slice(header, start))).toBe("<|im_start|>assistant\n");
      }
      // The weighted tokens are exactly the assistant turns as tinker-api.md §8 writes them.
      const weightedText = decode(episode.tokens.filter((_, i) => episode.weights[i] === 1));
      const expected = turns
        .map((m) =>
          m.toolCalls?.length
            ? m.toolCalls
                .map((c) => `<tool_call>\n${pyJson({ name: c.name, arguments: c.arguments })}\n</tool_call>`)
                .join("\n")
            : m.content,
        )
        .map((body) => `${body}<|im_end|>`)
        .join("");
      expect(weightedText).toBe(expected);
      // No tool output, user text or system text is weighted.
      for (const m of episode.messages) {
        if (m.role === "tool" && m.content.length > 20) expect(weightedText).not.toContain(m.content);
      }
    }
  });

  it("holds tool outputs equal to a fresh execution of the same calls on a fresh workspace", async () => {
    for (const episode of ran.slice(0, 12)) {
      const dir = await mkdtemp(path.join(os.tmpdir(), "curriculum-replay-"));
      try {
        await writeWorkspace(generateWorkspace(episode.plan.workspaceSeed), dir);
        const toolMessages = episode.messages.filter((m) => m.role === "tool");
        const executed = episode.plan.steps.filter((s) => s.kind === "call" || s.kind === "deny");
        expect(toolMessages.length).toBe(executed.length);
        for (const [i, step] of executed.entries()) {
          if (step.kind !== "call") continue; // a denied call never runs
          const fresh = await runCall(step.call, { workspace: dir, sandbox: { mode: "bwrap" } });
          expect(toolMessages[i]!.content).toBe(toolResultText(fresh));
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }, 120_000);

  it("follows a correction in context with the right call: after a denial the next call is a different one", () => {
    let denials = 0;
    for (const episode of ran) {
      episode.plan.steps.forEach((step, i) => {
        if (step.kind !== "deny") return;
        denials++;
        const next = episode.plan.steps.slice(i + 1).find((s) => s.kind === "call");
        expect(next).toBeDefined();
        expect(JSON.stringify(next?.kind === "call" ? next.call : null)).not.toBe(JSON.stringify(step.call));
      });
    }
    expect(denials).toBeGreaterThan(0);
  });

  it("writes teacher-shaped episodes as lib/sdpo's reprompt: task, feedback, optional environment output, closing line, then the right call", async () => {
    const teacherShaped = planEpisodes({ seed: 5, episodes: 400 }).filter((e) =>
      e.plan.steps.some((s) => s.kind === "reprompt" && s.environmentOf),
    );
    expect(teacherShaped.length).toBeGreaterThan(0);
    const episode = await runEpisode(teacherShaped[0]!, renderer);
    const index = episode.plan.steps.findIndex((s) => s.kind === "reprompt");
    const step = episode.plan.steps[index]!;
    if (step.kind !== "reprompt") throw new Error("unreachable");
    const reprompt = episode.messages.find(
      (m) => m.role === "user" && m.content.endsWith("Correctly solve the original question."),
    );
    expect(reprompt?.content).toBe(
      `${episode.plan.task}\n\nThe following is feedback from your unsuccessful earlier attempt:\n\n${step.correction}` +
        `\n\nEnvironment output:\n\n/bin/bash: line 1: ${String(step.environmentOf!.arguments.cmd)}: command not found\n[exit code 127]` +
        "\n\nCorrectly solve the original question.",
    );
    const after = episode.messages[episode.messages.indexOf(reprompt!) + 1];
    expect(after?.role === "assistant" && after.toolCalls?.[0]?.arguments).toEqual({
      cmd: episode.plan.habits.find((h) => h.habit === "wrong_test_command")!.values.command,
    });
  });
});
