"use server";
/**
 * Saving a user's own settings: the form's values are checked field by field against the shared
 * configuration schema (validateUserSettings: per-user keys only, an empty value clears the
 * override) and stored as the user's overrides, replacing the previous ones.
 */
import { revalidatePath } from "next/cache";
import { getSessionUser } from "@/lib/auth/server";
import { validateUserSettings } from "@/lib/config";
import { saveUserSettings } from "@/lib/db/queries/user-settings";

export type SaveSettingsResult =
  | { status: "ok" }
  | { status: "unauthorized" }
  | { status: "invalid_data"; error: string; errors: Record<string, string> };

export async function saveSettingsAction(input: unknown): Promise<SaveSettingsResult> {
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  const checked = validateUserSettings(input);
  if (!checked.ok) {
    return {
      status: "invalid_data",
      error: Object.entries(checked.errors)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; "),
      errors: checked.errors,
    };
  }
  await saveUserSettings({ userId: user.id, settings: checked.settings });
  revalidatePath("/settings");
  return { status: "ok" };
}
