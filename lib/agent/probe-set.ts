/**
 * A policy's probes from its stored calls (newest first): each denied or edited call is a
 * correction probe (the denied call, and the corrected one: the edit's arguments, or the next
 * call of that conversation the user let run); each call the user approved unchanged is a
 * retention probe (an approval's RL reward row aside, a call that drew any correction is not).
 * Auto-approved calls are left out: nobody judged them.
 */
import type { SampledCall } from "@/lib/db/queries/probes";
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

export function probesFromCalls(calls: readonly SampledCall[], perKind: number): Probe[] {
  const corrections: Probe[] = [];
  const retention: Probe[] = [];
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
        promptTokens: c.promptTokens,
        denied: asCall(c.call.name, c.call.args),
        deniedTokens: c.completionTokens.length,
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
        promptTokens: c.promptTokens,
        approved: asCall(c.call.name, c.call.args),
        approvedTokens: c.completionTokens.length,
      });
    }
  }
  return [...corrections, ...retention];
}
