/**
 * The settings page: every configuration value with its default and source; a per-user setting
 * saved through the form (checked by the shared schema) takes effect for that user only.
 */
import { expect, PASSWORD, test } from "./fixtures";

test("a user's setting overrides the default for them only, and an invalid value is refused", async ({ persona }) => {
  const sam = await persona("Sam");
  await sam.auth.signUp({ name: "Sam", email: sam.email, password: PASSWORD });
  await sam.page.goto("/settings");
  const temperature = sam.page.locator('[data-testid="setting-row"][data-key="temperature"]');
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.7");
  await expect(temperature.getByTestId("setting-source")).toHaveText("default");
  // Operator-only settings are listed but not editable here.
  const dataDir = sam.page.locator('[data-testid="setting-row"][data-key="dataDir"]');
  await expect(dataDir).toBeVisible();
  await expect(dataDir.locator("input, select")).toHaveCount(0);

  await sam.page.getByTestId("setting-input-temperature").fill("5");
  await sam.page.getByTestId("settings-save").click();
  await expect(temperature.getByTestId("setting-error")).toHaveText("must be at most 2");
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.7");

  await sam.page.getByTestId("setting-input-temperature").fill("0.3");
  await sam.page.getByTestId("settings-save").click();
  await expect(sam.page.getByTestId("settings-result")).toHaveText("Saved.");
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.3");
  await expect(temperature.getByTestId("setting-source")).toHaveText("your setting");

  const tess = await persona("Tess");
  await tess.auth.signUp({ name: "Tess", email: tess.email, password: PASSWORD });
  await tess.page.goto("/settings");
  await expect(tess.page.locator('[data-testid="setting-row"][data-key="temperature"] [data-testid="setting-value"]')).toHaveText("0.7");
});
