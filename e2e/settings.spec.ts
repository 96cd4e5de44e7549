/**
 * The settings page: every setting in its group with a plain label and line on what it does, its
 * range, default, value in effect and source, the flag and environment names one click away; a
 * per-user setting saved through the form (checked by the shared schema) takes effect for that
 * user only. The page's screenshot is kept as test-results/settings.png.
 */
import { expect, PASSWORD, test } from "./fixtures";
import { SettingsPage } from "./pages/settings-page";

test("a user's setting overrides the default for them only, and an invalid value is refused", async ({ persona }) => {
  const sam = await persona("Sam");
  await sam.auth.signUp({ name: "Sam", email: sam.email, password: PASSWORD });
  const settings = new SettingsPage(sam.page);
  await settings.goto();
  const temperature = settings.row("temperature");
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.7");
  await expect(temperature.getByTestId("setting-source")).toHaveText("default");
  // Operator-only settings are listed but not editable here.
  const dataDir = settings.row("dataDir");
  await expect(dataDir).toBeVisible();
  await expect(dataDir.locator("input, select")).toHaveCount(0);

  await settings.set("temperature", "5");
  await expect(temperature.getByTestId("setting-error")).toHaveText("must be at most 2");
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.7");

  await settings.set("temperature", "0.3");
  await expect(settings.result).toHaveText("Saved.");
  await expect(temperature.getByTestId("setting-value")).toHaveText("0.3");
  await expect(temperature.getByTestId("setting-source")).toHaveText("your setting");

  const tess = await persona("Tess");
  await tess.auth.signUp({ name: "Tess", email: tess.email, password: PASSWORD });
  const hers = new SettingsPage(tess.page);
  await hers.goto();
  await expect(hers.row("temperature").getByTestId("setting-value")).toHaveText("0.7");
});

test("settings are grouped and explained for people, with the flag one click away and a reply limit that fits the model", async ({
  persona,
}) => {
  const uma = await persona("Uma");
  await uma.auth.signUp({ name: "Uma", email: uma.email, password: PASSWORD });
  const settings = new SettingsPage(uma.page);
  await settings.goto();

  await expect(settings.groups.locator("h2")).toHaveText([
    "Model",
    "Sampling",
    "Training",
    "SDPO",
    "Review",
    "Sandbox",
    "Server",
  ]);
  await expect(settings.group("Sampling").getByTestId("setting-row")).toHaveCount(2);

  // A label and a plain line first; the range, unit and default beside them.
  const temperature = settings.row("temperature");
  await expect(temperature.getByTestId("setting-label")).toHaveText("Temperature");
  await expect(temperature.getByTestId("setting-description")).toContainText("likeliest next token");
  await expect(temperature.getByTestId("setting-facts")).toHaveText("0 to 2 · default 0.7");
  await expect(settings.row("bashTimeoutSec").getByTestId("setting-facts")).toHaveText(
    "more than 0, up to 600 seconds · default 30",
  );
  await expect(settings.row("training").getByTestId("setting-value")).toHaveText("on");

  // The flag and its environment variable are there for whoever runs the server, folded away.
  const flag = temperature.getByTestId("setting-flag");
  await expect(flag).toBeHidden();
  await temperature.getByTestId("setting-names").locator("summary").click();
  await expect(flag).toHaveText("--temperature");
  await expect(temperature.getByTestId("setting-names")).toContainText("CONTINUALCODE_TEMPERATURE");

  // The reply limit is auto by default, and says what that is for the bundled model's context.
  const maxTokens = settings.row("maxTokens");
  await expect(maxTokens.getByTestId("setting-label")).toHaveText("Reply length limit");
  await expect(maxTokens.getByTestId("setting-value")).toHaveText("auto");
  await expect(maxTokens.getByTestId("setting-source")).toHaveText("default");
  await expect(maxTokens.getByTestId("setting-facts")).toHaveText("1 to 131,072 tokens · default auto");
  await expect(maxTokens.getByTestId("setting-note")).toHaveText(
    "This model's context holds 4,096 tokens; a reply takes what the conversation leaves.",
  );

  // A window as tall as the page, so the sticky save bar sits at the bottom of the picture, not across a row.
  const height = await uma.page.evaluate(() => document.documentElement.scrollHeight);
  await uma.page.setViewportSize({ width: 1280, height });
  await uma.page.screenshot({ path: "test-results/settings.png" });
  await uma.page.setViewportSize({ width: 1280, height: 720 });

  // A limit past the context is accepted, and the page says it stops where the context ends.
  await settings.set("maxTokens", "8000");
  await expect(settings.result).toHaveText("Saved.");
  await expect(maxTokens.getByTestId("setting-value")).toHaveText("8000");
  await expect(maxTokens.getByTestId("setting-note")).toHaveText(
    "More than this model's context (4,096 tokens): a reply stops where the context ends.",
  );
});
