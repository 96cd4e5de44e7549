import { CheckpointsSection } from "@/components/checkpoints/checkpoints-section";
import { SettingsTable, type SettingRow } from "@/components/settings/settings-table";
import { requireUser } from "@/lib/auth/server";
import { fieldInfo, publicConfig } from "@/lib/config";
import { configForUser } from "@/lib/config/server";
import { getUserSettings } from "@/lib/db/queries/user-settings";

export const dynamic = "force-dynamic";

function shown(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

/** Every setting with its value in effect for this user, its default and where the value came from. */
export default async function SettingsPage() {
  const user = await requireUser();
  const [resolved, overrides] = await Promise.all([configForUser({ userId: user.id }), getUserSettings({ userId: user.id })]);
  const visible = publicConfig(resolved.config) as Record<string, unknown>;
  const rows: SettingRow[] = fieldInfo().map((f) => ({
    key: f.key,
    flag: f.flag,
    env: f.env,
    kind: f.kind,
    description: f.description,
    choices: f.choices ? [...f.choices] : undefined,
    perUser: f.perUser,
    secret: f.secret,
    value: shown(visible[f.key]),
    defaultValue: f.secret ? null : shown(f.default),
    source: resolved.sources[f.key],
    override: f.perUser ? shown(overrides[f.key]) : null,
  }));
  return (
    <main className="mx-auto flex max-w-6xl flex-col gap-3 p-4" data-testid="settings-page">
      <p className="text-muted">
        Values in effect for your sessions. Precedence: your setting › command-line flag › environment variable › the model's recommendation › default.
        Settings marked <span className="text-fg">per user</span> can be changed here; the others belong to whoever runs the
        server.
      </p>
      <SettingsTable rows={rows} />
      <CheckpointsSection />
    </main>
  );
}
