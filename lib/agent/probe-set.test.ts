import { describe, expect, it } from "vitest";
import type { SampledCall, SampledTokens } from "@/lib/db/queries/probes";
import type { ToolCall } from "@/lib/db/schema";
import { probeMessageIds, probesFromCalls } from "./probe-set";

let n = 0;
/** The fixtures' sampled tokens by message id, as listSampledTokens reads them. */
const tokens = new Map<string, SampledTokens>();
function sampled(over: Partial<ToolCall>, corrections: SampledCall["corrections"] = []): SampledCall {
  n++;
  const call = {
    id: `tc${n}`,
    ownerId: "u",
    conversationId: "c1",
    messageId: `m${n}`,
    name: "bash",
    args: { cmd: "pytest" },
    status: "succeeded",
    editedArgs: null,
    autoReason: null,
    decidedAt: null,
    result: null,
    review: null,
    startedAt: null,
    finishedAt: null,
    createdAt: new Date(n * 1000),
    ...over,
  } as ToolCall;
  tokens.set(call.messageId, { promptTokens: [n, n], completionTokens: [1, 2, 3] });
  return { call, replyLength: 3, corrections };
}
const at = new Date(0);

describe("probes from a policy's calls", () => {
  it("a denied call is a correction probe whose corrected call is the conversation's next call that ran; an approved one is a retention probe", () => {
    const denied = sampled({ status: "denied" }, [{ kind: "denial", createdAt: at }]);
    const retry = sampled({ args: { cmd: "python3 -m unittest" } });
    const other = sampled({ conversationId: "c2", name: "read", args: { path: "a.py" } });
    const probes = probesFromCalls([other, retry, denied], 8, tokens); // newest first
    expect(probes).toEqual([
      {
        kind: "correction",
        id: denied.call.id,
        promptTokens: tokens.get(denied.call.messageId)!.promptTokens,
        denied: { name: "bash", arguments: { cmd: "pytest" } },
        deniedTokens: 3,
        corrected: { name: "bash", arguments: { cmd: "python3 -m unittest" } },
      },
      {
        kind: "retention",
        id: other.call.id,
        promptTokens: tokens.get(other.call.messageId)!.promptTokens,
        approved: { name: "read", arguments: { path: "a.py" } },
        approvedTokens: 3,
      },
      {
        kind: "retention",
        id: retry.call.id,
        promptTokens: tokens.get(retry.call.messageId)!.promptTokens,
        approved: { name: "bash", arguments: { cmd: "python3 -m unittest" } },
        approvedTokens: 3,
      },
    ]);
  });

  it("an edit's corrected call is its edited arguments; auto-approved, proposed and edited calls are no retention probes; each kind is bounded", () => {
    const edited = sampled(
      {
        status: "succeeded",
        name: "write",
        args: { path: "a", content: "x" },
        editedArgs: { path: "a", content: "y" },
      },
      [{ kind: "edit", createdAt: at }],
    );
    const auto = sampled({ autoReason: "readonly", name: "read", args: { path: "a" } });
    const waiting = sampled({ status: "proposed" });
    const approved = [
      sampled({ args: { cmd: "ls" } }),
      sampled({ args: { cmd: "ls -a" } }),
      sampled({ args: { cmd: "ls -l" } }),
    ];
    const probes = probesFromCalls([...approved, waiting, auto, edited], 2, tokens);
    expect(probes.map((p) => [p.kind, p.id])).toEqual([
      ["correction", edited.call.id],
      ["retention", approved[0]!.call.id],
      ["retention", approved[1]!.call.id],
    ]);
    expect(probes[0]).toMatchObject({ corrected: { name: "write", arguments: { path: "a", content: "y" } } });
  });

  it("an approved call that earned an RL reward is still a retention probe; one corrected after it failed is not", () => {
    const rewarded = sampled({}, [{ kind: "approval", createdAt: at }]);
    const failed = sampled({ status: "failed" }, [{ kind: "tool_failure", createdAt: at }]);
    expect(probesFromCalls([failed, rewarded], 8, tokens).map((p) => [p.kind, p.id])).toEqual([
      ["retention", rewarded.call.id],
    ]);
  });

  it("a denial with no later call that ran has no corrected call yet", () => {
    const denied = sampled({ status: "denied" }, [{ kind: "denial", createdAt: at }]);
    const deniedAgain = sampled({ status: "denied" }, [{ kind: "denial", createdAt: at }]);
    expect(
      probesFromCalls([deniedAgain, denied], 8, tokens).map((p) =>
        p.kind === "correction" ? p.corrected : "retention",
      ),
    ).toEqual([null, null]);
  });

  it("reads tokens only for the calls it chose: the messages named are the probes' own", () => {
    const approved = [
      sampled({ args: { cmd: "ls" } }),
      sampled({ args: { cmd: "ls -a" } }),
      sampled({ args: { cmd: "ls -l" } }),
    ];
    const auto = sampled({ autoReason: "readonly", name: "read", args: { path: "a" } });
    expect(probeMessageIds([...approved, auto], 2)).toEqual([approved[0]!.call.messageId, approved[1]!.call.messageId]);
    // A chosen call whose tokens are gone is left out, not probed with an empty prompt.
    const without = new Map([...tokens].filter(([id]) => id !== approved[0]!.call.messageId));
    expect(probesFromCalls([...approved, auto], 2, without).map((p) => p.id)).toEqual([approved[1]!.call.id]);
  });
});
