import { CheckpointsSection } from "@/components/checkpoints/checkpoints-section";
import { SettingsTable, type SettingRow } from "@/components/settings/settings-table";
import { requireUser } from "@/lib/auth/server";
import { type Config, fieldsByGroup, publicConfig } from "@/lib/config";
import { configForUser } from "@/lib/config/server";
import { getUserSettings } from "@/lib/db/queries/user-settings";
import { availableModels, defaultCatalogue } from "@/lib/training/models";

export const dynamic = "force-dynamic";

function shown(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

/**
 * The context of the model in use, where this server knows it without asking a remote service
 * (the embedded backend's catalogue); a Tinker model's is only known to its server.
 */
function modelContext(config: Config): number | undefined {
  if (config.tinkerUrl || config.tinkerApiKey) return undefined;
  return availableModels(defaultCatalogue()).find((m) => m.modelName === config.model)?.maxContextLength;
}

/** Says what the reply length limit comes to for this model: a set limit past its context is cut there. */
function maxTokensNote(config: Config): string | undefined {
  const context = modelContext(config);
  if (context === undefined) return undefined;
  const tokens = context.toLocaleString("en-US");
  if (config.maxTokens === undefined)
    return `This model's context holds ${tokens} tokens; a reply takes what the conversation leaves.`;
  if (config.maxTokens >= context)
    return `More than this model's context (${tokens} tokens): a reply stops where the context ends.`;
  return undefined;
}

/** Every setting, in its group, with its value in effect for this user, its default and where the value came from. */
export default async function SettingsPage() {
  const user = await requireUser();
  const [resolved, overrides] = await Promise.all([
    configForUser({ userId: user.id }),
    getUserSettings({ userId: user.id }),
  ]);
  const visible = publicConfig(resolved.config);
  const note = maxTokensNote(resolved.config);
  const groups = fieldsByGroup().map(({ group, fields }) => ({
    group,
    rows: fields.map(
      (f): SettingRow => ({
        key: f.key,
        group: f.group,
        label: f.label,
        flag: f.flag,
        env: f.env,
        kind: f.kind,
        description: f.description,
        unit: f.unit,
        range: f.range,
        ...(f.whenUnset !== undefined ? { whenUnset: f.whenUnset } : {}),
        choices: f.choices ? [...f.choices] : undefined,
        perUser: f.perUser,
        secret: f.secret,
        value: shown(visible[f.key]),
        defaultValue: f.secret ? null : shown(f.default),
        source: resolved.sources[f.key],
        override: f.perUser ? shown(overrides[f.key]) : null,
        ...(f.key === "maxTokens" && note ? { note } : {}),
      }),
    ),
  }));
  return (
    <main className="mx-auto flex max-w-5xl flex-col gap-4 p-4" data-testid="settings-page">
      <div>
        <h1 className="text-base font-semibold">Settings</h1>
        <p className="text-muted">
          The values your sessions run with, and where each comes from: your setting › a command-line flag › an
          environment variable › the model&apos;s recommendation › the default. You can change the ones with a box on
          the right; the rest belong to whoever runs the server.
        </p>
      </div>
      <SettingsTable groups={groups} />
      <CheckpointsSection />
    </main>
  );
}
