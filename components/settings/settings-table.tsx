"use client";
/**
 * The settings page's form: every setting in its group (Model, Sampling, Training …), each with
 * its label, a plain line on what it does, its unit and range, its default, the value in effect
 * and where that value came from, and, for per-user settings, the user's own override. The flag
 * and environment variable an operator sets stay one click away under each setting. Every field
 * is submitted as text; the server validates it with the shared schema and an empty field clears
 * the override.
 */
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { saveSettingsAction } from "@/app/(ide)/settings/actions";
import type { FieldInfo, SettingGroup } from "@/lib/config";

export type SettingRow = Pick<
  FieldInfo,
  | "key"
  | "group"
  | "label"
  | "flag"
  | "env"
  | "kind"
  | "description"
  | "unit"
  | "range"
  | "whenUnset"
  | "perUser"
  | "secret"
> & {
  choices?: string[];
  value: string | null;
  defaultValue: string | null;
  source: "user" | "flag" | "env" | "model" | "default";
  override: string | null;
  /** What the value means for the model in use, where that is worth saying (a limit beyond its context). */
  note?: string;
};

const SOURCE_LABEL: Record<SettingRow["source"], string> = {
  user: "your setting",
  flag: "flag",
  env: "environment",
  model: "the model's recommendation",
  default: "default",
};

/** What each group is for, in one line. */
const GROUP_INTRO: Record<SettingGroup, string> = {
  Model: "Which model the agent is, and where it runs.",
  Sampling: "How the agent writes each reply.",
  Training: "Whether and how fast the agent's weights change when you correct it.",
  SDPO: "How a denial or an edit becomes a training step: who teaches, and how hard.",
  Review: "What the agent may do before it waits for you.",
  Sandbox: "Limits on the commands the agent runs.",
  Server: "The server process itself; set by whoever runs it.",
};

/** A value as people read it: switches as on/off, an unset value by what unset means. */
function shown(row: SettingRow, value: string | null): string {
  if (value === null) return row.whenUnset ?? "unset";
  if (row.kind === "boolean") return value === "true" ? "on" : "off";
  return value;
}

export function SettingsTable({ groups }: { groups: Array<{ group: SettingGroup; rows: SettingRow[] }> }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; errors: Record<string, string> } | null>(null);
  const rows = groups.flatMap((g) => g.rows);

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const values = Object.fromEntries(rows.filter((r) => r.perUser).map((r) => [r.key, String(form.get(r.key) ?? "")]));
    startTransition(async () => {
      const saved = await saveSettingsAction(values);
      switch (saved.status) {
        case "ok":
          setResult({ ok: true, text: "Saved.", errors: {} });
          router.refresh();
          return;
        case "invalid_data":
          setResult({ ok: false, text: "Some values are not valid.", errors: saved.errors });
          return;
        case "unauthorized":
          router.replace("/sign-in");
          return;
        default: {
          const unreachable: never = saved;
          throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
        }
      }
    });
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-4" data-testid="settings-form">
      {groups.map(({ group, rows: groupRows }) => (
        <section key={group} className="panel" data-testid="settings-group" data-group={group}>
          <header className="border-b border-border px-4 py-2">
            <h2 className="font-semibold">{group}</h2>
            <p className="text-muted">{GROUP_INTRO[group]}</p>
          </header>
          <ul className="divide-y divide-border">
            {groupRows.map((r) => (
              <SettingItem key={r.key} row={r} error={result?.errors[r.key]} />
            ))}
          </ul>
        </section>
      ))}
      <div className="panel sticky bottom-0 flex items-center gap-3 px-4 py-2">
        <button className="btn-primary" type="submit" disabled={pending} data-testid="settings-save">
          {pending ? "Saving…" : "Save my settings"}
        </button>
        <span className="text-muted">An empty field uses the server&apos;s value.</span>
        {result && (
          <span className={result.ok ? "text-ok" : "text-danger"} role="status" data-testid="settings-result">
            {result.text}
          </span>
        )}
      </div>
    </form>
  );
}

function SettingItem({ row: r, error }: { row: SettingRow; error: string | undefined }) {
  const facts = [
    r.range ? `${r.range}${r.unit ? ` ${r.unit}` : ""}` : r.unit,
    r.secret ? null : `default ${shown(r, r.defaultValue)}`,
  ].filter(Boolean);
  return (
    <li
      className="grid grid-cols-1 gap-x-6 gap-y-2 px-4 py-3 md:grid-cols-[minmax(0,1fr)_14rem_12rem]"
      data-testid="setting-row"
      data-key={r.key}
    >
      <div className="min-w-0">
        <div className="font-medium" data-testid="setting-label">
          {r.label}
        </div>
        <p className="text-muted" data-testid="setting-description">
          {r.description}.
        </p>
        <p className="text-[12px] text-muted/80" data-testid="setting-facts">
          {facts.join(" · ")}
        </p>
        <details className="mt-1 text-[12px]" data-testid="setting-names">
          <summary className="cursor-pointer text-muted/80">Flag and environment variable</summary>
          <div className="mt-1 font-mono text-muted">
            <span data-testid="setting-flag">{r.flag}</span> · {r.env.join(" · ")}
          </div>
        </details>
      </div>
      <div>
        <div className="label">In effect</div>
        <div className="font-mono text-[13px]" data-testid="setting-value">
          {r.secret && r.value === null ? <span className="text-muted">unset</span> : shown(r, r.value)}
        </div>
        <div className="text-[12px] text-muted">
          from <span data-testid="setting-source">{SOURCE_LABEL[r.source]}</span>
        </div>
        {r.note && (
          <p className="text-[12px] text-warn" data-testid="setting-note">
            {r.note}
          </p>
        )}
      </div>
      <div>
        <div className="label">Your setting</div>
        {r.perUser ? <OverrideInput row={r} /> : <span className="text-muted">set by the server</span>}
        {error && (
          <div className="text-danger" data-testid="setting-error">
            {error}
          </div>
        )}
      </div>
    </li>
  );
}

function OverrideInput({ row }: { row: SettingRow }) {
  const common = {
    name: row.key,
    defaultValue: row.override ?? "",
    "aria-label": row.label,
    "data-testid": `setting-input-${row.key}`,
  };
  if (row.kind === "boolean" || row.choices) {
    const options =
      row.kind === "boolean"
        ? [
            ["true", "on"],
            ["false", "off"],
          ]
        : (row.choices ?? []).map((c) => [c, c]);
    return (
      <select className="input w-full" {...common}>
        <option value="">(server&apos;s)</option>
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    );
  }
  return <input className="input w-full font-mono" {...common} placeholder="(server's)" autoComplete="off" />;
}
