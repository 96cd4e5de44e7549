"use client";
/**
 * The adapter's timeline, newest first: each version with what made it (the correction a step
 * learned from, an undo, a restore, a reset), whether the current weights hold it and whether
 * its weights are kept. Undo, restore and reset each ask for confirmation in place, then become
 * a new version on the timeline. It reloads whenever `refreshKey` changes (a step finished).
 */
import { useCallback, useEffect, useState, useTransition } from "react";
import {
  type HistoryActionResult,
  resetToBaseAction,
  restoreVersionAction,
  undoVersionAction,
} from "@/app/(ide)/settings/checkpoints/actions";
import type { Timeline, TimelineEntry } from "@/lib/agent/adapter-history";

type Pending =
  | { kind: "undo"; entry: TimelineEntry; later: number }
  | { kind: "restore"; entry: TimelineEntry }
  | { kind: "reset" };

function describe(result: HistoryActionResult): { ok: boolean; text: string } {
  switch (result.status) {
    case "done":
      return {
        ok: true,
        text: `Now at version ${result.version}${result.replayed > 0 ? `; replaying ${result.replayed} later correction${result.replayed === 1 ? "" : "s"}` : ""}.`,
      };
    case "busy":
      return { ok: false, text: "A training step is queued or running; try again once it has finished." };
    case "not_kept":
      return {
        ok: false,
        text: "Those weights were not kept (see “Recent versions to keep” and “Save a checkpoint every”).",
      };
    case "not_in_current":
      return { ok: false, text: "The current weights no longer hold that step." };
    case "not_found":
      return { ok: false, text: "Not found." };
    case "unauthorized":
      return { ok: false, text: "Your session has ended; sign in again." };
    case "invalid_data":
      return { ok: false, text: "That request was not valid." };
    case "failed":
      return { ok: false, text: result.error };
    default: {
      const never: never = result;
      throw new Error(`unexpected result ${JSON.stringify(never)}`);
    }
  }
}

/** One line on what made the version. */
function what(e: TimelineEntry): string {
  switch (e.event) {
    case "trained": {
      const text = e.corrections.map((c) => `“${c.text}”`).join(", ");
      return `${e.replay ? "replayed " : ""}step on ${text || "an approval"}`;
    }
    case "undo":
      return `undo of v${e.undoneVersion} (weights of v${e.sourceVersion})`;
    case "restore":
      return `restore of v${e.sourceVersion}`;
    case "reset":
      return "reset to the base model";
    default: {
      const never: never = e.event;
      throw new Error(`unknown version event ${String(never)}`);
    }
  }
}

export function AdapterTimeline({
  policyId,
  refreshKey,
  compact = false,
}: {
  policyId: string;
  refreshKey?: string | number;
  compact?: boolean;
}) {
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [replay, setReplay] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, startTransition] = useTransition();

  const load = useCallback(async () => {
    const response = await fetch(`/api/policies/${encodeURIComponent(policyId)}/timeline`, { cache: "no-store" });
    if (response.ok) setTimeline((await response.json()) as Timeline);
  }, [policyId]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `refreshKey` changes when a step lands elsewhere on the page, which must reload the timeline.
  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  const confirm = () => {
    const p = pending;
    if (!p) return;
    startTransition(async () => {
      const result =
        p.kind === "undo"
          ? await undoVersionAction({ policyId, version: p.entry.version, replay })
          : p.kind === "restore"
            ? await restoreVersionAction({ policyId, version: p.entry.version })
            : await resetToBaseAction({ policyId });
      setMessage(describe(result));
      setPending(null);
      setReplay(false);
      await load();
    });
  };

  const entries = [...(timeline?.entries ?? [])].reverse();
  const laterHeld = (e: TimelineEntry) =>
    entries.filter((x) => x.event === "trained" && x.inCurrent && x.version > e.version).length;
  const atBase = timeline !== null && (timeline.entries.at(-1)?.event === "reset" || timeline.entries.length === 0);

  return (
    <section
      className="flex flex-col text-[12px]"
      data-testid="adapter-timeline"
      data-current-version={timeline?.currentVersion ?? ""}
    >
      <div className="flex items-center gap-2 border-b border-border px-2 py-1">
        <h3 className="text-[11px] font-medium uppercase tracking-wide text-muted">Versions</h3>
        <span className="text-muted">{timeline ? `current v${timeline.currentVersion}` : ""}</span>
        <button
          type="button"
          className="btn ml-auto"
          disabled={busy || atBase}
          onClick={() => setPending({ kind: "reset" })}
          data-testid="history-reset"
        >
          Reset to base
        </button>
      </div>
      {pending && (
        <div
          className="flex flex-col gap-1.5 border-b border-border bg-warn/10 px-2 py-1.5"
          role="alertdialog"
          aria-label="Confirm"
          data-testid="history-confirm"
          data-kind={pending.kind}
        >
          <p>
            {pending.kind === "undo"
              ? `Undo v${pending.entry.version}: go back to the weights of v${pending.entry.sourceVersion}, the version before it?`
              : pending.kind === "restore"
                ? `Restore the weights of v${pending.entry.version}?`
                : "Reset to the base model? Everything the adapter learnt is set aside (kept versions can still be restored)."}{" "}
            This makes a new version.
          </p>
          {pending.kind === "undo" && pending.later > 0 && (
            <label className="flex items-center gap-1.5">
              <input
                type="checkbox"
                checked={replay}
                onChange={(e) => setReplay(e.target.checked)}
                data-testid="history-replay"
              />
              Then replay the {pending.later} later correction{pending.later === 1 ? "" : "s"} without it
            </label>
          )}
          <div className="flex gap-2">
            <button type="button" className="btn" disabled={busy} onClick={confirm} data-testid="history-confirm-yes">
              {pending.kind === "undo" ? "Undo" : pending.kind === "restore" ? "Restore" : "Reset"}
            </button>
            <button
              type="button"
              className="btn"
              disabled={busy}
              onClick={() => setPending(null)}
              data-testid="history-cancel"
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {message && (
        <p
          className={`px-2 py-1 ${message.ok ? "text-ok" : "text-danger"}`}
          role="status"
          data-testid="history-message"
        >
          {message.text}
        </p>
      )}
      {entries.length === 0 ? (
        <p className="px-2 py-1.5 text-muted" data-testid="history-empty">
          No versions yet: each training step makes one.
        </p>
      ) : (
        <ol className={`divide-y divide-border ${compact ? "max-h-64 overflow-auto" : ""}`}>
          {entries.map((e) => (
            <li
              key={e.version}
              className="flex items-start gap-2 px-2 py-1"
              data-testid="history-entry"
              data-version={e.version}
              data-event={e.event}
              data-in-current={e.inCurrent}
              data-kept={e.kept}
            >
              <span className={`font-mono ${e.event === "trained" && !e.inCurrent ? "text-muted line-through" : ""}`}>
                v{e.version}
              </span>
              <span className="min-w-0 flex-1 break-words">
                {what(e)}
                {e.current && <span className="ml-1.5 rounded bg-ok/20 px-1 text-[11px] text-ok">current</span>}
                {!e.kept && <span className="ml-1.5 text-[11px] text-muted">weights not kept</span>}
              </span>
              {e.event === "trained" && e.inCurrent && (
                <button
                  type="button"
                  className="btn"
                  disabled={busy}
                  onClick={() => setPending({ kind: "undo", entry: e, later: laterHeld(e) })}
                  data-testid="history-undo"
                >
                  Undo
                </button>
              )}
              {e.kept && !e.current && e.event !== "reset" && (
                <button
                  type="button"
                  className="btn"
                  disabled={busy}
                  onClick={() => setPending({ kind: "restore", entry: e })}
                  data-testid="history-restore"
                >
                  Restore
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
