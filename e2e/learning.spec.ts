/**
 * Adapter history on the bundled model, decoding greedily: five corrections each train a step
 * and make a version (v1 … v5) on the training panel's timeline, each naming its correction; the
 * last three are undone one by one, each after a confirmation and each a new version (v6 … v8),
 * so the step axis only grows and the undone versions are struck from the current weights; then
 * a reset to the base model (v9, after its confirmation). The dashboard shows the same timeline.
 * Screenshots of the timeline at each stage are kept in the test's output folder
 * (learning-01-corrected.png … learning-05-dashboard.png).
 */
import type { Locator, Page, TestInfo } from "@playwright/test";
import { expect, PASSWORD, test } from "./fixtures";
import { ProposalCard } from "./pages/proposal-card";
import { SessionPage } from "./pages/session-page";

// Each correction samples a proposal and trains a step on two shared CPU cores: seconds to tens of seconds.
test.describe.configure({ timeout: 600_000 });
const MODEL_WAIT = 120_000;

const TASK = "Create notes.txt with the line hello.";
const CORRECTIONS = [
  "Read the folder first.",
  "Name the file in the first line.",
  "Keep it to one line.",
  "Use the write tool once.",
  "Say what you changed.",
];

async function shot(page: Page, testInfo: TestInfo, name: string) {
  await page.screenshot({ path: testInfo.outputPath(name), fullPage: true });
}

/** The panel's timeline entries of an event, and the one of a version. */
function entries(timeline: Locator, event?: string): Locator {
  return timeline.locator(
    event ? `[data-testid="history-entry"][data-event="${event}"]` : '[data-testid="history-entry"]',
  );
}
const entry = (timeline: Locator, version: number) =>
  timeline.locator(`[data-testid="history-entry"][data-version="${version}"]`);

test("five corrections make five versions; undoing the last three and resetting to the base each ask first and add a version, never reusing a number", async ({
  persona,
}, testInfo) => {
  const p = await persona("Vera");
  await p.auth.signUp({ name: "Vera", email: p.email, password: PASSWORD });
  await p.page.goto("/settings");
  await p.page.getByTestId("setting-input-temperature").fill("0");
  await p.page.getByTestId("settings-save").click();
  await expect(p.page.getByTestId("settings-result")).toHaveText("Saved.");
  await p.workspaces.create("vera history");
  const session = new SessionPage(p.page);
  await session.startFromWorkspace();
  const card = new ProposalCard(p.page);
  const timeline = p.page.locator('[data-testid="training-panel"] [data-testid="adapter-timeline"]');
  await expect(timeline.getByTestId("history-empty")).toBeVisible();

  // 1. Five corrections: each denied proposal, failed call or answer is corrected, and its step
  //    becomes the next version, naming the correction.
  await session.send(TASK);
  // The idle page before the send must not pass for the agent's answer.
  await expect(p.page.getByTestId("session-page")).not.toHaveAttribute("data-state", "idle");
  const seen: string[] = [];
  for (const [i, correction] of CORRECTIONS.entries()) {
    const next = await card.waitForNext(seen, MODEL_WAIT, true);
    if (next.kind === "proposal") await card.denyWith(correction);
    else if (next.kind === "failure") {
      await card.failure.getByTestId("correction-input").fill(correction);
      await card.failure.getByTestId("correction-submit").click();
    } else {
      await p.page.getByTestId("correct-answer-button").last().click();
      await p.page.getByTestId("correction-input").fill(correction);
      await p.page.getByTestId("correction-submit").click();
    }
    seen.push(next.key);
    await expect(entries(timeline, "trained")).toHaveCount(i + 1, { timeout: MODEL_WAIT });
    await expect(entry(timeline, i + 1)).toContainText(correction);
  }
  await expect(timeline).toHaveAttribute("data-current-version", "5");
  await expect(entry(timeline, 5)).toContainText("current");
  await shot(p.page, testInfo, "learning-01-corrected.png");

  // 2. Undo v5, v4 and v3, each after its confirmation: versions 6, 7, 8, holding the weights of
  //    v4, v3 and v2. Cancelling first changes nothing.
  await entry(timeline, 5).getByTestId("history-undo").click();
  await expect(timeline.getByTestId("history-confirm")).toContainText("Undo v5: go back to the weights of v4");
  await timeline.getByTestId("history-cancel").click();
  await expect(timeline.getByTestId("history-confirm")).toHaveCount(0);
  await expect(timeline).toHaveAttribute("data-current-version", "5");
  for (const [k, undone] of [5, 4, 3].entries()) {
    await entry(timeline, undone).getByTestId("history-undo").click();
    await expect(timeline.getByTestId("history-confirm")).toHaveAttribute("data-kind", "undo");
    if (k === 0) await shot(p.page, testInfo, "learning-02-confirm-undo.png");
    await timeline.getByTestId("history-confirm-yes").click();
    await expect(timeline.getByTestId("history-message")).toHaveText(`Now at version ${6 + k}.`, {
      timeout: MODEL_WAIT,
    });
    await expect(entry(timeline, 6 + k)).toHaveAttribute("data-event", "undo");
    await expect(entry(timeline, 6 + k)).toContainText(`undo of v${undone} (weights of v${undone - 1})`);
    await expect(entry(timeline, undone)).toHaveAttribute("data-in-current", "false");
  }
  for (const v of [1, 2]) await expect(entry(timeline, v)).toHaveAttribute("data-in-current", "true");
  await expect(timeline).toHaveAttribute("data-current-version", "8");
  await shot(p.page, testInfo, "learning-03-undone.png");

  // 3. Reset to the base model: asked first, then v9; no trained version is in the weights.
  await timeline.getByTestId("history-reset").click();
  await expect(timeline.getByTestId("history-confirm")).toHaveAttribute("data-kind", "reset");
  await timeline.getByTestId("history-confirm-yes").click();
  await expect(timeline.getByTestId("history-message")).toHaveText("Now at version 9.", { timeout: MODEL_WAIT });
  await expect(entry(timeline, 9)).toHaveAttribute("data-event", "reset");
  await expect(
    timeline.locator('[data-testid="history-entry"][data-event="trained"][data-in-current="true"]'),
  ).toHaveCount(0);
  await expect(timeline.getByTestId("history-reset")).toBeDisabled();
  await shot(p.page, testInfo, "learning-04-reset.png");

  // 4. Every number appears once, newest first; the dashboard shows the same timeline, and the
  //    step axis (the steps' numbers) is 1 … 5, never reused.
  const numbers = await entries(timeline).evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-version"))));
  expect(numbers).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  await p.page.goto("/dashboard");
  const board = p.page.getByTestId("dashboard-timeline").getByTestId("adapter-timeline");
  await expect(board).toHaveAttribute("data-current-version", "9");
  await expect(entries(board)).toHaveCount(9);
  const steps = await p.page.locator('[data-testid="step-row"][data-status="done"]').count();
  expect(steps).toBe(5);
  await shot(p.page, testInfo, "learning-05-dashboard.png");
});
