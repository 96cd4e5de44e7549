/**
 * A policy's probes from its stored calls (newest first): each denied or edited call is a
 * correction probe (the denied call, and the corrected one: the edit's arguments, or the next
 * call of that conversation the user let run); each call the user approved unchanged is a
 * retention probe (an approval's RL reward row aside, a call that drew any correction is not).
 * Auto-approved calls are left out: nobody judged them.
 */
import type { Db } from "@/lib/db/client";
import {
  listRecentSampledCalls,
  listSampledTokens,
  type SampledCall,
  type SampledTokens,
} from "@/lib/db/queries/probes";
import type { Probe, ProbeCall } from "@/lib/sdpo/probes";

const LESSONS = new Set(["denial", "edit"]);
/** Statuses of a call that ran (or was let run) as the user approved it. */
const LET_RUN = new Set(["approved", "executing", "succeeded", "observed", "failed", "interrupted"]);

const asCall = (name: string, args: Record<string, unknown>): ProbeCall => ({ name, arguments: args });
const ranAs = (c: SampledCall): ProbeCall | null =>
  c.call.editedArgs
    ? asCall(c.call.name, c.call.editedArgs)
    : LET_RUN.has(c.call.status)
      ? asCall(c.call.name, c.call.args)
      : null;

/** A probe chosen from a call, before its prompt's tokens are read. */
type ProbeChoice<P = Probe> = P extends Probe ? Omit<P, "promptTokens"> & { messageId: string } : never;

function pickProbes(calls: readonly SampledCall[], perKind: number): ProbeChoice[] {
  const corrections: ProbeChoice[] = [];
  const retention: ProbeChoice[] = [];
  for (const [i, c] of calls.entries()) {
    const lesson = c.corrections.some((x) => LESSONS.has(x.kind));
    if (lesson && corrections.length < perKind) {
      // The retry: the oldest newer call of the same conversation that ran (calls are newest first).
      const retry = calls
        .slice(0, i)
        .findLast(
          (n) =>
            n.call.conversationId === c.call.conversationId &&
            ranAs(n) !== null &&
            !n.corrections.some((x) => x.kind === "denial"),
        );
      const corrected = c.call.editedArgs ? asCall(c.call.name, c.call.editedArgs) : retry ? ranAs(retry) : null;
      corrections.push({
        kind: "correction",
        id: c.call.id,
        messageId: c.call.messageId,
        denied: asCall(c.call.name, c.call.args),
        deniedTokens: c.replyLength,
        corrected,
      });
    } else if (
      !lesson &&
      c.corrections.every((x) => x.kind === "approval") &&
      c.call.autoReason === null &&
      c.call.editedArgs === null &&
      LET_RUN.has(c.call.status) &&
      retention.length < perKind
    ) {
      retention.push({
        kind: "retention",
        id: c.call.id,
        messageId: c.call.messageId,
        approved: asCall(c.call.name, c.call.args),
        approvedTokens: c.replyLength,
      });
    }
  }
  return [...corrections, ...retention];
}

/** The messages whose tokens the probes of `calls` need: only the chosen calls'. */
export function probeMessageIds(calls: readonly SampledCall[], perKind: number): string[] {
  return pickProbes(calls, perKind).map((p) => p.messageId);
}

/** The probes of `calls` (newest first), up to `perKind` of each kind, with their prompts from `tokens`. */
export function probesFromCalls(
  calls: readonly SampledCall[],
  perKind: number,
  tokens: ReadonlyMap<string, SampledTokens>,
): Probe[] {
  const out: Probe[] = [];
  for (const { messageId, ...probe } of pickProbes(calls, perKind)) {
    const sampled = tokens.get(messageId);
    if (sampled) out.push({ ...probe, promptTokens: sampled.promptTokens } as Probe);
  }
  return out;
}

/**
 * The policy's probes from its newest calls: a few hundred calls read without their tokens, the
 * chosen ones' tokens read after. Also gives the tokens read, by message id (the rehearsal's replies).
 */
export async function loadProbes({
  db,
  ownerId,
  policyId,
  perKind,
  scanned,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  perKind: number;
  /** How many of the newest calls to choose from. */
  scanned: number;
}): Promise<{ probes: Probe[]; calls: SampledCall[]; tokens: Map<string, SampledTokens> }> {
  const calls = await listRecentSampledCalls({ db, ownerId, policyId, limit: scanned });
  const tokens = await listSampledTokens({ db, ownerId, messageIds: probeMessageIds(calls, perKind) });
  return { probes: probesFromCalls(calls, perKind, tokens), calls, tokens };
}
