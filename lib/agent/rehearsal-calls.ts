/**
 * The approved calls a correction's step rehearses (settings rehearsalCalls): the policy's newest
 * calls the user approved unchanged, chosen by the same rule as the guard's retention probes
 * (probe-set.ts), with the prompt and reply tokens they were sampled with.
 */
import type { Db } from "@/lib/db/client";
import { rehearsalsFromProbes, type RehearsalCall } from "@/lib/sdpo/rehearsal";
import { loadProbes } from "./probe-set";

/** Calls read to find `count` approved ones among denials, edits and auto-approvals. */
const CALLS_SCANNED = 200;

export async function recentApprovedCalls({
  db,
  ownerId,
  policyId,
  count,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  count: number;
}): Promise<RehearsalCall[]> {
  if (count === 0) return [];
  const { probes, calls, tokens } = await loadProbes({ db, ownerId, policyId, perKind: count, scanned: CALLS_SCANNED });
  const messageOf = new Map(calls.map((c) => [c.call.id, c.call.messageId]));
  return rehearsalsFromProbes(probes, (id) => tokens.get(messageOf.get(id) ?? "")?.completionTokens, count);
}
