"use client";
/**
 * The user's checkpoints: one "Save now" per policy, then every checkpoint (policy, step: the
 * adapter version it holds, the correction behind it, name, kind, created) with "Export PEFT" (a
 * .tar download from /api/checkpoints/:id/peft) and "Restore" (after a confirmation, its weights
 * become a new version, the policy's current one). Results of the buttons show in one line.
 */
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import {
  type CheckpointActionResult,
  restoreCheckpointAction,
  saveCheckpointNowAction,
} from "@/app/(ide)/settings/checkpoints/actions";
import type { CheckpointListing, PolicyListing } from "@/lib/agent/checkpoints";

function describe(result: CheckpointActionResult): { ok: boolean; text: string } {
  switch (result.status) {
    case "saved":
      return { ok: true, text: "Checkpoint saved." };
    case "restored":
      return { ok: true, text: "Checkpoint restored as a new version: the next turn and training step use it." };
    case "unauthorized":
      return { ok: false, text: "Your session has ended; sign in again." };
    case "invalid_data":
      return { ok: false, text: "That request was not valid." };
    case "not_found":
      return { ok: false, text: "Not found." };
    case "nothing_to_save":
      return { ok: false, text: "This policy has not trained yet: there is nothing to save." };
    case "busy":
      return { ok: false, text: "A training step of this policy is queued or running; restore once it has finished." };
    case "not_a_state":
      return { ok: false, text: "Only saved training states can be restored." };
    case "unsupported":
    case "failed":
      return { ok: false, text: result.error };
    default: {
      const never: never = result;
      throw new Error(`unexpected result ${JSON.stringify(never)}`);
    }
  }
}

export function CheckpointTable({
  policies,
  checkpoints,
}: {
  policies: PolicyListing[];
  checkpoints: CheckpointListing[];
}) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  /** The checkpoint whose restore waits for a confirmation. */
  const [confirming, setConfirming] = useState<string | null>(null);

  const run = (action: () => Promise<CheckpointActionResult>) =>
    startTransition(async () => {
      const result = await action();
      setMessage(describe(result));
      if (result.status === "unauthorized") router.replace("/sign-in");
      else router.refresh();
    });

  return (
    <section className="panel" data-testid="checkpoints-section">
      <div className="flex flex-wrap items-center gap-3 border-b border-border px-3 py-2">
        <h2 className="label">Checkpoints</h2>
        {policies.map((p) => (
          <button
            key={p.id}
            type="button"
            className="btn"
            disabled={pending}
            onClick={() => run(() => saveCheckpointNowAction({ id: p.id }))}
            data-testid="save-checkpoint-now"
            data-policy={p.name}
          >
            Save now{policies.length > 1 ? ` (${p.name})` : ""}
          </button>
        ))}
        {message && (
          <span className={message.ok ? "text-ok" : "text-danger"} role="status" data-testid="checkpoint-message">
            {message.text}
          </span>
        )}
      </div>
      {checkpoints.length === 0 ? (
        <p className="px-3 py-3 text-muted" data-testid="checkpoints-empty">
          {policies.length === 0
            ? "No policy yet: one is created when you start your first conversation."
            : "No checkpoints yet: the newest versions' weights are kept after each training step, and every “Save a checkpoint every” steps."}
        </p>
      ) : (
        <table className="w-full text-left" data-testid="checkpoints-table">
          <thead className="text-muted">
            <tr>
              <th className="px-3 py-1.5 font-normal">Policy</th>
              <th className="px-3 py-1.5 font-normal">Step</th>
              <th className="px-3 py-1.5 font-normal">Correction</th>
              <th className="px-3 py-1.5 font-normal">Name</th>
              <th className="px-3 py-1.5 font-normal">Kind</th>
              <th className="px-3 py-1.5 font-normal">Created</th>
              <th className="px-3 py-1.5 font-normal" />
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {checkpoints.map((c) => (
              <tr key={c.id} data-testid="checkpoint-row" data-name={c.name} data-version={c.version}>
                <td className="px-3 py-1">{c.policyName}</td>
                <td className="px-3 py-1 font-mono" title={`${c.step} optimizer steps`}>
                  {c.version}
                </td>
                <td className="max-w-64 px-3 py-1 text-xs" data-testid="checkpoint-correction">
                  {c.corrections.length > 0 ? (
                    c.corrections.map((k) => `“${k.text}”`).join(", ")
                  ) : (
                    <span className="text-muted">{c.origin === "manual" ? "saved by you" : "—"}</span>
                  )}
                </td>
                <td className="px-3 py-1 font-mono text-xs">
                  {c.name}
                  {c.current && <span className="ml-1.5 rounded bg-ok/20 px-1 text-[11px] text-ok">current</span>}
                </td>
                <td className="px-3 py-1">{c.kind}</td>
                <td className="px-3 py-1 text-muted">{c.createdAt.slice(0, 16).replace("T", " ")}</td>
                <td className="flex justify-end gap-2 px-3 py-1">
                  {c.exportable && (
                    <a className="btn" href={`/api/checkpoints/${c.id}/peft`} download data-testid="export-peft">
                      Export PEFT
                    </a>
                  )}
                  {c.kind === "state" && !c.current && confirming !== c.id && (
                    <button
                      type="button"
                      className="btn"
                      disabled={pending}
                      onClick={() => setConfirming(c.id)}
                      data-testid="restore-checkpoint"
                    >
                      Restore
                    </button>
                  )}
                  {confirming === c.id && (
                    <span
                      className="flex items-center gap-2"
                      role="alertdialog"
                      aria-label="Confirm restore"
                      data-testid="restore-confirm"
                    >
                      <span>Make these weights a new version?</span>
                      <button
                        type="button"
                        className="btn"
                        disabled={pending}
                        onClick={() => {
                          setConfirming(null);
                          run(() => restoreCheckpointAction({ id: c.id }));
                        }}
                        data-testid="restore-confirm-yes"
                      >
                        Restore
                      </button>
                      <button
                        type="button"
                        className="btn"
                        onClick={() => setConfirming(null)}
                        data-testid="restore-cancel"
                      >
                        Cancel
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
