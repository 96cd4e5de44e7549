"use client";
/**
 * The person's approval settings next to the conversation: auto-approval of read-only tools
 * (the per-user setting autoApproveReadonly) and their "always allow" rules, each deletable.
 * Both act through server actions and show a refusal inline.
 */
import { useState, useTransition } from "react";
import { deleteRule, setAutoApprove } from "@/app/(ide)/conversations/actions";
import type { AllowRule } from "@/lib/db/schema";

export function RulesPanel({
  rules,
  autoApproveReadonly,
  onChanged,
}: {
  rules: AllowRule[];
  autoApproveReadonly: boolean;
  onChanged: () => void;
}) {
  const [pending, start] = useTransition();
  const [error, setError] = useState<string | null>(null);
  const [auto, setAuto] = useState(autoApproveReadonly);

  return (
    <div className="border-t border-border px-2 py-1 text-[12px]" data-testid="rules-panel">
      <label className="flex items-center gap-2 py-1">
        <input
          type="checkbox"
          data-testid="auto-approve-toggle"
          checked={auto}
          disabled={pending}
          onChange={(e) => {
            const enabled = e.target.checked;
            start(async () => {
              const res = await setAutoApprove({ enabled });
              if (res.status === "ok") {
                setAuto(res.enabled);
                setError(null);
                onChanged();
              } else setError(res.status === "invalid_data" ? res.error : `Could not save (${res.status}).`);
            });
          }}
        />
        Auto-approve read-only tools (read, glob, grep)
      </label>
      <p className="pt-1 text-[11px] text-muted">Always allow</p>
      {rules.length === 0 && (
        <p className="text-[11px] text-muted">No rules: approve with “always allow” to add one.</p>
      )}
      <ul>
        {rules.map((r) => (
          <li key={r.id} className="flex items-center gap-1 py-0.5" data-testid="allow-rule" data-rule-id={r.id}>
            <span className="font-mono text-[11px]">
              {r.tool}
              {r.kind === "tool" ? " (any)" : r.kind === "path" ? ` on ${r.pattern}` : ` $ ${r.pattern}…`}
            </span>
            <span className="flex-1" />
            <button
              type="button"
              className="text-[11px] text-muted hover:text-danger"
              data-testid="delete-rule"
              disabled={pending}
              onClick={() =>
                start(async () => {
                  const res = await deleteRule({ ruleId: r.id });
                  if (res.status === "ok" || res.status === "not_found") {
                    setError(null);
                    onChanged();
                  } else setError(res.status === "invalid_data" ? res.error : `Could not delete (${res.status}).`);
                })
              }
            >
              delete
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p className="text-xs text-danger" data-testid="rules-error">
          {error}
        </p>
      )}
    </div>
  );
}
