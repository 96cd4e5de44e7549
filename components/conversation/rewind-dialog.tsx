"use client";
/**
 * "/rewind": back to just before one of this episode's tasks. Pick the turn (1–9, or the buttons;
 * the latest is chosen first), then what to rewind: c code only (the files the agent's calls
 * changed since then), v conversation only, b both. The training steps run since that turn are
 * listed, and undoing the adapter versions they made is offered as its own button (u), never done
 * by a rewind. Esc closes; "/undo" undoes a rewind.
 */
import { useEffect, useRef, useState } from "react";
import type { RewindMode } from "@/lib/agent/rewind";

export type RewindPoint = { messageId: string; text: string; createdAt: string };
export type StepSince = { id: string; step: number | null; status: string; queuedAt: string };

const MODES: { mode: RewindMode; key: string; label: string }[] = [
  { mode: "code", key: "c", label: "Code only" },
  { mode: "conversation", key: "v", label: "Conversation only" },
  { mode: "both", key: "b", label: "Both" },
];

export function RewindDialog({
  points,
  steps,
  busy,
  error,
  versions,
  notice,
  onRewind,
  onUndoVersions,
  onCancel,
}: {
  points: RewindPoint[];
  steps: StepSince[];
  /** Trained adapter versions and the steps that made them. */
  versions: { number: number; trainingStepId: string | null }[];
  busy: boolean;
  error: string | null;
  notice: string | null;
  onRewind: (messageId: string, mode: RewindMode) => void;
  /** Undo trained version `version` (and with it every later one in the weights). */
  onUndoVersions: (version: number) => void;
  onCancel: () => void;
}) {
  const [chosen, setChosen] = useState(points.length - 1);
  const box = useRef<HTMLDivElement>(null);
  // The dialog takes the focus from the message box, so its keys are never typed there.
  useEffect(() => box.current?.focus(), []);
  const point = points[chosen];
  const since = point ? steps.filter((s) => Date.parse(s.queuedAt) >= Date.parse(point.createdAt)) : [];
  const sinceIds = new Set(since.map((s) => s.id));
  const firstVersion = versions
    .filter((v) => v.trainingStepId !== null && sinceIds.has(v.trainingStepId))
    .sort((a, b) => a.number - b.number)[0];

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") return onCancel();
      const n = Number(event.key);
      if (Number.isInteger(n) && n >= 1 && n <= Math.min(9, points.length)) {
        event.preventDefault();
        setChosen(n - 1);
        return;
      }
      if (event.key === "u" && firstVersion && !busy) {
        event.preventDefault();
        onUndoVersions(firstVersion.number);
        return;
      }
      const mode = MODES.find((m) => m.key === event.key);
      if (mode && point && !busy) {
        event.preventDefault();
        onRewind(point.messageId, mode.mode);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  return (
    <div
      className="fixed inset-0 z-50 flex items-center justify-center bg-black/60"
      role="dialog"
      aria-modal="true"
      aria-labelledby="rewind-title"
      data-testid="rewind-dialog"
    >
      <div ref={box} tabIndex={-1} className="w-[32rem] rounded border border-border bg-panel p-4 outline-none">
        <h2 id="rewind-title" className="mb-2 font-medium">
          Rewind to before a task
        </h2>
        {points.length === 0 ? (
          <p className="mb-3 text-[13px] text-muted" data-testid="rewind-none">
            This episode has no task to go back to.
          </p>
        ) : (
          <ol className="mb-3 max-h-60 overflow-auto text-[13px]">
            {points.map((p, i) => (
              <li key={p.messageId}>
                <button
                  type="button"
                  className={`w-full truncate rounded px-2 py-0.5 text-left ${i === chosen ? "bg-accent/20" : "hover:bg-panel-2"}`}
                  data-testid="rewind-point"
                  data-chosen={i === chosen}
                  onClick={() => setChosen(i)}
                >
                  <kbd className="mr-2 text-muted">{i + 1}</kbd>
                  {p.text}
                </button>
              </li>
            ))}
          </ol>
        )}
        {point && (
          <p className="mb-3 text-[12px] text-muted" data-testid="rewind-steps-since">
            {since.length === 0
              ? "No training step has run since this turn."
              : `${since.length} training step${since.length === 1 ? " has" : "s have"} run since this turn (${since.map((s) => (s.step === null ? s.status : `#${s.step}`)).join(", ")}). A rewind leaves the adapter as it is.`}
            {firstVersion && (
              <button
                type="button"
                className="ml-2 rounded border border-border px-2 py-0.5 text-xs"
                data-testid="rewind-undo-versions"
                disabled={busy}
                onClick={() => onUndoVersions(firstVersion.number)}
              >
                Also undo adapter version {firstVersion.number} and later <kbd className="opacity-70">u</kbd>
              </button>
            )}
          </p>
        )}
        {notice && (
          <p className="mb-3 text-[12px] text-ok" data-testid="rewind-notice">
            {notice}
          </p>
        )}
        {error && (
          <p
            className="mb-3 rounded border border-danger/60 bg-danger/10 px-2 py-1 text-xs text-danger"
            role="alert"
            data-testid="rewind-error"
          >
            Not rewound. {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <button
            type="button"
            className="rounded border border-border px-3 py-1 text-xs"
            data-testid="rewind-cancel"
            onClick={onCancel}
          >
            Cancel <kbd className="opacity-70">Esc</kbd>
          </button>
          {MODES.map((m) => (
            <button
              key={m.mode}
              type="button"
              className="rounded bg-accent px-3 py-1 text-xs text-accent-fg disabled:opacity-50"
              data-testid={`rewind-${m.mode}`}
              disabled={busy || !point}
              onClick={() => point && onRewind(point.messageId, m.mode)}
            >
              {m.label} <kbd className="opacity-70">{m.key}</kbd>
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}
