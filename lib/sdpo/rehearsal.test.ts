/**
 * Rehearsal on the fixture model (raw token ids): which approved calls a step takes, the datums
 * they become (the current weights' own log-probs, so the importance ratio starts at 1, and the
 * same advantage on every token), and that one step on them makes the approved reply more likely.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamFor } from "./config";
import { buildDatum } from "./datum";
import type { Probe } from "./probes";
import { pickRehearsals, rehearsalExamples, rehearsalsFromProbes } from "./rehearsal";
import { startFixtureBackend, type FixtureBackend } from "./testing";

const PROMPT = [1, 17, 42, 99, 5, 230, 64, 12];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

let fx: FixtureBackend;
let reply: number[];

beforeAll(async () => {
  fx = await startFixtureBackend();
  const student = await (await fx.trainer()).saveWeightsForSampler();
  reply = (await student.sample(PROMPT, { maxTokens: 6, temperature: 1, seed: 3 })).sequences[0]!.tokens;
});

afterAll(async () => {
  await fx?.close();
});

describe("which approved calls a step rehearses", () => {
  const call = (n: number) => ({ promptTokens: [n], completionTokens: [n, n] });

  it("takes the newest calls up to the count and skips one without a reply", () => {
    const calls = [call(1), { promptTokens: [2], completionTokens: [] }, call(3), call(4)];
    expect(pickRehearsals(calls, 2)).toEqual([call(1), call(3)]);
    expect(pickRehearsals(calls, 0)).toEqual([]);
  });

  it("refuses a count that is not a whole number of calls", () => {
    expect(() => pickRehearsals([call(1)], 1.5)).toThrow(/whole number/);
    expect(() => pickRehearsals([call(1)], -1)).toThrow(/whole number/);
  });

  it("rehearses only retention probes, with the reply each was sampled with", () => {
    const probes: Probe[] = [
      {
        kind: "correction",
        id: "denied",
        promptTokens: [9],
        denied: { name: "write", arguments: {} },
        deniedTokens: 2,
        corrected: null,
      },
      { kind: "retention", id: "a", promptTokens: [5], approved: { name: "read", arguments: {} }, approvedTokens: 2 },
      { kind: "retention", id: "gone", promptTokens: [6], approved: { name: "ls", arguments: {} }, approvedTokens: 1 },
      { kind: "retention", id: "b", promptTokens: [7], approved: { name: "ls", arguments: {} }, approvedTokens: 1 },
    ];
    const replies: Record<string, number[]> = { denied: [1, 2], a: [3, 4], b: [8] };
    expect(rehearsalsFromProbes(probes, (id) => replies[id], 8)).toEqual([
      { promptTokens: [5], completionTokens: [3, 4] },
      { promptTokens: [7], completionTokens: [8] },
    ]);
  });
});

describe("rehearsal datums on the fixture model", () => {
  it("carry the current weights' log-probs of the reply and the weight on every token", async () => {
    const student = await (await fx.trainer()).saveWeightsForSampler();
    const [ex] = await rehearsalExamples(student, [{ promptTokens: PROMPT, completionTokens: reply }], 0.25);
    const scored = (await student.computeLogprobs([...PROMPT, ...reply])).slice(PROMPT.length) as number[];
    expect(ex!.samplingLogprobs).toEqual(scored);
    expect(ex!.advantages).toEqual(reply.map(() => 0.25));
  });

  it("are none at weight 0, and a negative or non-finite weight is refused", async () => {
    const student = await (await fx.trainer()).saveWeightsForSampler();
    const calls = [{ promptTokens: PROMPT, completionTokens: reply }];
    expect(await rehearsalExamples(student, calls, 0)).toEqual([]);
    await expect(rehearsalExamples(student, calls, -0.1)).rejects.toThrow(/weight/);
    await expect(rehearsalExamples(student, calls, Number.NaN)).rejects.toThrow(/weight/);
  });

  it("one importance-sampling step on them makes the approved reply more likely", async () => {
    const trainer = await fx.trainer();
    const student = await trainer.saveWeightsForSampler();
    const before = sum((await student.computeLogprobs([...PROMPT, ...reply])).slice(PROMPT.length) as number[]);
    const examples = await rehearsalExamples(student, [{ promptTokens: PROMPT, completionTokens: reply }], 0.1);
    await trainer.forwardBackward(
      examples.map((ex) => buildDatum({ ...ex, completionTokens: ex.completionTokens })),
      "importance_sampling",
    );
    await trainer.optimStep(adamFor({ learningRate: 5e-3 }));
    const after = sum(
      (await (await trainer.saveWeightsForSampler()).computeLogprobs([...PROMPT, ...reply])).slice(
        PROMPT.length,
      ) as number[],
    );
    expect(after).toBeGreaterThan(before);
  });
});
