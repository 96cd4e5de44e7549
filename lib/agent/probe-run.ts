/**
 * After a step, in the background: score the version it made on the user's recent probes, store
 * the scores in the step's metrics, judge it with the guard, and tell the conversation.
 *   wait until the retried proposal is out (the probes never delay it) → build probes → greedy
 *   first moves under that version → probe/* and guard/* metrics → "probe" event → on reject,
 *   undo the version (lib/agent/adapter-history.ts) and say so.
 * A version that is no longer the current one when its turn comes (another step, an undo) is
 * not scored: its weights are not the ones in memory.
 */
import type { Config } from "@/lib/config";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { recordStepProbeMetrics } from "@/lib/db/queries/probes";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { Conversation, TrainingStep } from "@/lib/db/schema";
import { log } from "@/lib/log";
import { describeReason, judgeStep, type GuardVerdict } from "@/lib/sdpo/guard";
import { PROBE_KEYS } from "@/lib/sdpo/probe-metrics";
import { scoreProbes, type ProbeScores } from "@/lib/sdpo/probes";
import { liveTrainersFromRuntime } from "./live-trainers";
import { undoVersion } from "./adapter-history";
import type { AgentCore } from "./core";
import { loadProbes } from "./probe-set";

/** Calls read to find probes: enough for `probeCount` of each kind among denials, edits and auto-approvals. */
const CALLS_SCANNED = 200;
/** How long the probes wait for the retried proposal before they run anyway. */
const RETRY_WAIT_MS = 30_000;
/**
 * The state is heard from this process's event bus at once; the database is read this often as
 * well, for a conversation another instance drives (its events reach only its own bus). Twenty
 * steps' probe runs polling every 100 ms were hundreds of queries a second on the server's main
 * thread, where the database runs.
 */
const POLL_MS = 1_000;
const WAITING = new Set(["training", "sampling"]);

export type ProbeRun =
  | { status: "scored"; scores: ProbeScores; verdict: GuardVerdict; rolledBack: number | null }
  | { status: "skipped"; reason: "probes_off" | "no_probes" | "not_current" | "no_version" };

/** Resolves once the conversation no longer waits on the step or its retry (or after RETRY_WAIT_MS). */
async function retryProposed(core: AgentCore, conv: Conversation): Promise<void> {
  const until = Date.now() + RETRY_WAIT_MS;
  let heard = false;
  let wake: () => void = () => {};
  const unsubscribe = core.events.subscribe(conv.id, 0, (event) => {
    if (event.type === "state" && !WAITING.has(event.payload.state)) {
      heard = true;
      wake();
    }
  });
  try {
    for (;;) {
      const now = await getConversationForOwner({ db: core.db, id: conv.id, ownerId: conv.ownerId });
      if (heard || !now || !WAITING.has(now.state) || Date.now() > until) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, Math.max(0, until - Date.now())));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
  }
}

function metricsOf(scores: ProbeScores, verdict: GuardVerdict, rolledBack: boolean): Record<string, number> {
  const out: Record<string, number> = {
    [PROBE_KEYS.probes]: scores.probes,
    [PROBE_KEYS.flagged]: verdict.flagged ? 1 : 0,
    [PROBE_KEYS.rolledBack]: rolledBack ? 1 : 0,
  };
  if (scores.correctionsKept !== null) out[PROBE_KEYS.correctionsKept] = scores.correctionsKept;
  if (scores.deniedReturned !== null) out[PROBE_KEYS.deniedReturned] = scores.deniedReturned;
  if (scores.approvedKept !== null) out[PROBE_KEYS.approvedKept] = scores.approvedKept;
  if (scores.topFirstMoveShare !== null) out[PROBE_KEYS.topFirstMoveShare] = scores.topFirstMoveShare;
  const drop = verdict.reasons.find((r) => r.kind === "approved_drop");
  if (drop) {
    out[PROBE_KEYS.bestRecent] = drop.bestRecent;
    out[PROBE_KEYS.dropPoints] = drop.points;
  }
  return out;
}

/** The rollback a rejecting guard asks for: undo the version (back to the one it trained from). */
async function rollBack(core: AgentCore, row: TrainingStep, config: Config): Promise<number | null> {
  const live = liveTrainersFromRuntime(core.runtime, (ownerId) => core.config(ownerId));
  const result = await undoVersion({
    db: core.db,
    ownerId: row.ownerId,
    policyId: row.policyId,
    version: row.step!,
    live,
    retention: { saveEvery: config.saveEvery, keepVersions: config.keepVersions },
  });
  return result.status === "done" ? result.version : null;
}

export async function runStepProbes(core: AgentCore, row: TrainingStep, conv: Conversation | null): Promise<ProbeRun> {
  const db = core.db;
  const config = await core.config(row.ownerId);
  if (config.probeCount === 0) return { status: "skipped", reason: "probes_off" };
  if (row.step === null) return { status: "skipped", reason: "no_version" };
  if (conv) await retryProposed(core, conv);

  // 1. The probes, from the policy's newest calls.
  const { probes } = await loadProbes({
    db,
    ownerId: row.ownerId,
    policyId: row.policyId,
    perKind: config.probeCount,
    scanned: CALLS_SCANNED,
  });
  if (probes.length === 0) return { status: "skipped", reason: "no_probes" };

  // 2. Greedy first moves under the step's version, while it is the one in memory.
  const policy = await getPolicyForOwner({ db, id: row.policyId, ownerId: row.ownerId });
  if (!policy || policy.version !== row.step) return { status: "skipped", reason: "not_current" };
  const renderer = await core.renderer(policy.baseModel);
  const scores = await core.runtime.use(policy, config, async (opened) =>
    opened.version === row.step
      ? scoreProbes({ sampler: opened.sampler, renderer, tools: core.deps.tools, probes })
      : null,
  );
  if (!scores) return { status: "skipped", reason: "not_current" };

  // 3. The guard, against the approved behaviour kept at the steps before this one.
  const earlier = (await listTrainingStepsByOwner({ db, ownerId: row.ownerId, policyId: row.policyId }))
    .filter((s) => s.status === "done" && s.step !== null && s.step < row.step!)
    .sort((a, b) => a.step! - b.step!)
    .map((s) => s.metrics?.[PROBE_KEYS.approvedKept] ?? null);
  const verdict = judgeStep({
    scores,
    earlier,
    settings: { dropPoints: config.guardDropPoints, action: config.guardAction },
  });
  const rolledBack = verdict.action === "reject" ? await rollBack(core, row, config) : null;

  // 4. Stored with the step (the charts read it there), then told to the conversation.
  await recordStepProbeMetrics({
    db,
    ownerId: row.ownerId,
    trainingStepId: row.id,
    metrics: metricsOf(scores, verdict, rolledBack !== null),
  });
  if (conv) {
    await core.publish(conv, "probe", {
      trainingStepId: row.id,
      step: row.step,
      correctionsKept: scores.correctionsKept,
      approvedKept: scores.approvedKept,
      deniedReturned: scores.deniedReturned,
      topFirstMove: scores.topFirstMove,
      topFirstMoveShare: scores.topFirstMoveShare,
      probes: scores.probes,
      flagged: verdict.flagged,
      action: verdict.action,
      reasons: verdict.reasons.map(describeReason),
      rolledBackTo: rolledBack,
    });
    if (verdict.action === "warn") {
      await core.publish(conv, "error", {
        kind: "guard_flagged",
        trainingStepId: row.id,
        step: row.step,
        message: `The guard flagged version ${row.step}: ${verdict.reasons.map(describeReason).join(" ")}`,
      });
    }
    if (verdict.action === "reject") {
      const message =
        rolledBack !== null
          ? `Version ${row.step} was undone by the guard (now version ${rolledBack}): ${verdict.reasons.map(describeReason).join(" ")}`
          : `The guard flagged version ${row.step} but could not undo it now (a step is queued or running, or the version before it was not kept): ${verdict.reasons.map(describeReason).join(" ")}`;
      await core.publish(conv, "error", {
        kind: "guard_rejected",
        trainingStepId: row.id,
        step: row.step,
        rolledBackTo: rolledBack,
        message,
      });
    }
  }
  return { status: "scored", scores, verdict, rolledBack };
}

/** Starts the probe run in the background (idle() waits for it); a failure is logged, never thrown at the trainer. */
export function scheduleStepProbes(core: AgentCore, row: TrainingStep, conv: Conversation | null): void {
  void core.track(
    runStepProbes(core, row, conv).catch((error: unknown) =>
      log.warn("probes.failed", { trainingStepId: row.id, error }),
    ),
  );
}
