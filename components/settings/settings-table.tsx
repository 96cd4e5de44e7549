"use client";
/**
 * The settings table and the form for the user's own overrides. Every field is submitted as
 * text; the server validates it with the shared schema and an empty field clears the override.
 */
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { saveSettingsAction } from "@/app/(ide)/settings/actions";

export type SettingRow = {
  key: string;
  flag: string;
  env: string[];
  kind: "string" | "number" | "integer" | "boolean" | "enum";
  description: string;
  choices?: string[];
  perUser: boolean;
  secret: boolean;
  value: string | null;
  defaultValue: string | null;
  source: "user" | "flag" | "env" | "model" | "default";
  override: string | null;
};

const SOURCE_LABEL: Record<SettingRow["source"], string> = {
  user: "your setting",
  flag: "flag",
  env: "environment",
  model: "the model's recommendation",
  default: "default",
};

export function SettingsTable({ rows }: { rows: SettingRow[] }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; errors: Record<string, string> } | null>(null);

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
    <form onSubmit={onSubmit} className="panel overflow-x-auto" data-testid="settings-form">
      <table className="w-full text-left">
        <thead className="text-muted">
          <tr className="border-b border-border">
            <th className="px-3 py-1.5 font-normal">Setting</th>
            <th className="px-3 py-1.5 font-normal">Value</th>
            <th className="px-3 py-1.5 font-normal">From</th>
            <th className="px-3 py-1.5 font-normal">Default</th>
            <th className="px-3 py-1.5 font-normal">Your setting</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-border">
          {rows.map((r) => (
            <tr key={r.key} className="align-top" data-testid="setting-row" data-key={r.key}>
              <td className="px-3 py-1.5">
                <div className="font-mono text-[12px]">{r.flag}</div>
                <div className="text-muted">{r.description}</div>
                <div className="font-mono text-[11px] text-muted/70">{r.env.join(" · ")}</div>
              </td>
              <td className="px-3 py-1.5 font-mono text-[12px]" data-testid="setting-value">
                {r.value ?? <span className="text-muted">unset</span>}
              </td>
              <td className="px-3 py-1.5 text-muted" data-testid="setting-source">
                {SOURCE_LABEL[r.source]}
              </td>
              <td className="px-3 py-1.5 font-mono text-[12px] text-muted">{r.secret ? "—" : (r.defaultValue ?? "unset")}</td>
              <td className="px-3 py-1.5">
                {r.perUser ? <OverrideInput row={r} /> : <span className="text-muted">server</span>}
                {result?.errors[r.key] && (
                  <div className="text-danger" data-testid="setting-error">
                    {result.errors[r.key]}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="flex items-center gap-3 border-t border-border px-3 py-2">
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

function OverrideInput({ row }: { row: SettingRow }) {
  const common = { name: row.key, defaultValue: row.override ?? "", "data-testid": `setting-input-${row.key}` };
  if (row.kind === "boolean" || row.choices) {
    const options = row.kind === "boolean" ? ["true", "false"] : (row.choices ?? []);
    return (
      <select className="input w-36" {...common}>
        <option value="">(server&apos;s)</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  }
  return <input className="input w-36 font-mono" {...common} placeholder="(server's)" autoComplete="off" />;
}
