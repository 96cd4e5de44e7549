"use client";

import { MetricsTable } from "./training-panel";

/** The /metrics command's answer: the last training step's metrics, or a note that there are none yet. */
export function MetricsDialog({ metrics, onClose }: { metrics: Record<string, number> | null; onClose: () => void }) {
  return (
    <div
      className="fixed right-84 top-12 z-40 max-h-[70vh] w-96 overflow-auto rounded border border-border bg-panel p-3 shadow-lg"
      role="dialog"
      data-testid="metrics-panel"
    >
      <div className="mb-2 flex items-center">
        <h2 className="font-medium">Last training step&apos;s metrics</h2>
        <span className="flex-1" />
        <button
          type="button"
          className="text-xs text-muted hover:text-fg"
          data-testid="metrics-close"
          onClick={onClose}
          // biome-ignore lint/a11y/noAutofocus: the metrics panel opens on the user's /metrics; Esc or Enter closes it.
          autoFocus
        >
          Close
        </button>
      </div>
      {metrics ? (
        <MetricsTable metrics={metrics} />
      ) : (
        <p className="text-[13px] text-muted">No training metrics yet.</p>
      )}
    </div>
  );
}
