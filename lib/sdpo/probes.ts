/**
 * Probes: what a user's own decisions say the agent should (not) do, replayed on a new adapter
 * version. A correction's probe is the context that produced the denied call, without the
 * correction; an approved-unchanged call's probe is its context, to check it is still proposed.
 *   each probe → greedy first reply under the version → its first call → compared with the
 *   denied, corrected or approved call → rates per kind, and the spread of first moves.
 * Greedy decoding is what the agent would propose at temperature 0, one short sample per probe
 * (bounded by the longest reference reply), and unlike a log-prob margin between two known calls
 * it also shows a third answer taking over every probe: the collapse the guard looks for.
 */
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import type { SamplingClient } from "@/lib/training/types";

/** A call as the probe compares it: tool and arguments, key order aside. */
export type ProbeCall = { name: string; arguments: Record<string, unknown> };

export type Probe =
  | {
      kind: "correction";
      id: string;
      promptTokens: number[];
      denied: ProbeCall;
      deniedTokens: number;
      corrected: ProbeCall | null;
    }
  | { kind: "retention"; id: string; promptTokens: number[]; approved: ProbeCall; approvedTokens: number };

/** What one probe's greedy first reply was. */
export type ProbeOutcome = {
  id: string;
  kind: Probe["kind"];
  /** The first call's key (tool + sorted arguments), "answer" for a reply without one, "unreadable" for a parse error. */
  firstMove: string;
  /** correction: the denied call came back. */
  deniedReturned?: boolean;
  /** correction: the corrected call appeared (null when the correction named none). */
  correctedAppeared?: boolean | null;
  /** correction: kept its lesson (the corrected call when known, else anything but the denied call); retention: still the approved call. */
  kept: boolean;
};

export type ProbeScores = {
  /** Share of correction probes that kept their lesson; null without any. */
  correctionsKept: number | null;
  /** Share of correction probes whose denied call came back; null without any. */
  deniedReturned: number | null;
  /** Share of retention probes still answered with the approved call; null without any. */
  approvedKept: number | null;
  /** The most common first move over all probes, and its share. */
  topFirstMove: string | null;
  topFirstMoveShare: number | null;
  /** How many different calls the probes' own references (denied, corrected, approved) are. */
  distinctReferences: number;
  probes: number;
  outcomes: ProbeOutcome[];
};

/** JSON with sorted keys at every level, so two equal calls have one key. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export function callKey(call: ProbeCall): string {
  return `${call.name}(${canonical(call.arguments)})`;
}

/** Room past the longest reference reply: enough to close a call the same length, no more. */
const EXTRA_TOKENS = 16;

/** The greedy first move at `promptTokens` under `sampler`. */
async function firstMove(
  sampler: SamplingClient,
  renderer: Renderer,
  tools: ToolSpec[],
  promptTokens: number[],
  maxTokens: number,
  seed: number,
): Promise<string> {
  const seq = (await sampler.sample(promptTokens, { maxTokens, temperature: 0, seed, stop: renderer.stopTokens }))
    .sequences[0]!;
  const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools });
  if (parsed.kind === "parse_error") return "unreadable";
  const call = parsed.message.toolCalls?.[0];
  return call ? callKey(call) : "answer";
}

const share = (flags: boolean[]) => (flags.length === 0 ? null : flags.filter(Boolean).length / flags.length);

export async function scoreProbes({
  sampler,
  renderer,
  tools,
  probes,
  seed = 0,
}: {
  sampler: SamplingClient;
  renderer: Renderer;
  tools: ToolSpec[];
  probes: Probe[];
  seed?: number;
}): Promise<ProbeScores> {
  const outcomes: ProbeOutcome[] = [];
  const references = new Set<string>();
  for (const probe of probes) {
    switch (probe.kind) {
      case "correction": {
        const move = await firstMove(
          sampler,
          renderer,
          tools,
          probe.promptTokens,
          probe.deniedTokens + EXTRA_TOKENS,
          seed,
        );
        const deniedReturned = move === callKey(probe.denied);
        const correctedAppeared = probe.corrected ? move === callKey(probe.corrected) : null;
        references.add(callKey(probe.corrected ?? probe.denied));
        outcomes.push({
          id: probe.id,
          kind: probe.kind,
          firstMove: move,
          deniedReturned,
          correctedAppeared,
          kept: correctedAppeared ?? (!deniedReturned && move !== "unreadable"),
        });
        break;
      }
      case "retention": {
        const move = await firstMove(
          sampler,
          renderer,
          tools,
          probe.promptTokens,
          probe.approvedTokens + EXTRA_TOKENS,
          seed,
        );
        references.add(callKey(probe.approved));
        outcomes.push({ id: probe.id, kind: probe.kind, firstMove: move, kept: move === callKey(probe.approved) });
        break;
      }
      default: {
        const never: never = probe;
        throw new Error(`unknown probe ${String(never)}`);
      }
    }
  }
  const corrections = outcomes.filter((o) => o.kind === "correction");
  const retained = outcomes.filter((o) => o.kind === "retention");
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o.firstMove, (counts.get(o.firstMove) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? null;
  return {
    correctionsKept: share(corrections.map((o) => o.kept)),
    deniedReturned: share(corrections.map((o) => o.deniedReturned === true)),
    approvedKept: share(retained.map((o) => o.kept)),
    topFirstMove: top?.[0] ?? null,
    topFirstMoveShare: top ? top[1] / outcomes.length : null,
    distinctReferences: references.size,
    probes: outcomes.length,
    outcomes,
  };
}
