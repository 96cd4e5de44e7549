/**
 * Adapter history and the guard on the bundled model, decoding greedily at a learning rate high
 * enough to break it (1e-2, five times the model's own; replies up to 256 tokens): a few approved calls give the
 * probes something to keep, then eight corrections each train a step and make a version (v1 … v8)
 * on the training panel's timeline, naming its correction. The guard, scoring each version on the
 * user's own probes in the background, flags a step. Undoing the last three versions (each after a
 * confirmation, each a new version v9 … v11, so the step axis only grows) and resetting to the base
 * (v12) follow. The dashboard shows the same timeline. Screenshots kept in the test's output
 * folder: learning-01-corrected.png (timeline after eight corrections), learning-02-probes.png (the
 * probe charts and the guard's flag), learning-03-confirm-undo.png, learning-04-undone.png,
 * learning-05-reset.png, learning-06-dashboard.png.
 */
import type { Locator, Page, TestInfo } from "@playwright/test";
import { expect, PASSWORD, test } from "./fixtures";
import { ProposalCard } from "./pages/proposal-card";
import { SessionPage } from "./pages/session-page";

// Each correction samples a proposal and trains a step on two shared CPU cores: seconds to tens of seconds.
test.describe.configure({ timeout: 600_000 });
const MODEL_WAIT = 120_000;

const TASK = "Create notes.txt with the line hello.";
const APPROVALS = 3;
const CORRECTIONS = [
  "Read the folder first.",
  "Name the file in the first line.",
  "Keep it to one line.",
  "Use the write tool once.",
  "Say what you changed.",
  "Look before you write.",
  "Write notes.txt, nothing else.",
  "One call at a time.",
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

test("eight corrections at a high learning rate: the guard flags a step; undoing the last three and resetting to the base each ask first and add a version, never reusing a number", async ({
  persona,
}, testInfo) => {
  const p = await persona("Vera");
  await p.auth.signUp({ name: "Vera", email: p.email, password: PASSWORD });
  await p.page.goto("/settings");
  await p.page.getByTestId("setting-input-temperature").fill("0");
  await p.page.getByTestId("setting-input-learningRate").fill("0.01");
  await p.page.getByTestId("setting-input-maxTokens").fill("256");
  await p.page.getByTestId("settings-save").click();
  await expect(p.page.getByTestId("settings-result")).toHaveText("Saved.");
  await p.workspaces.create("vera history");
  const session = new SessionPage(p.page);
  await session.startFromWorkspace();
  const card = new ProposalCard(p.page);
  const panel = p.page.getByTestId("training-panel");
  const timeline = panel.getByTestId("adapter-timeline");
  await expect(timeline.getByTestId("history-empty")).toBeVisible();

  // 1. The first proposals are approved (the guard's retention probes); then eight corrections:
  //    each denied proposal, failed call, answer or unreadable reply is corrected, and its step
  //    becomes the next version, naming the correction.
  await session.send(TASK);
  // The idle page before the send must not pass for the agent's answer.
  await expect(p.page.getByTestId("session-page")).not.toHaveAttribute("data-state", "idle");
  const seen: string[] = [];
  let approved = 0;
  let corrected = 0;
  while (corrected < CORRECTIONS.length) {
    const next = await card.waitForNext(seen, MODEL_WAIT, true);
    seen.push(next.key);
    if (next.kind === "proposal" && approved < APPROVALS) {
      await card.approve();
      approved += 1;
      continue;
    }
    const correction = CORRECTIONS[corrected]!;
    switch (next.kind) {
      case "proposal":
        await card.denyWith(correction);
        break;
      case "failure":
        await card.failure.getByTestId("correction-input").fill(correction);
        await card.failure.getByTestId("correction-submit").click();
        break;
      case "answer":
        await p.page.getByTestId("correct-answer-button").last().click();
        await p.page.getByTestId("correction-input").fill(correction);
        await p.page.getByTestId("correction-submit").click();
        break;
      case "unreadable":
        await p.page.getByTestId("correct-reply-button").click();
        await p.page.getByTestId("correction-input").fill(correction);
        await p.page.getByTestId("correction-submit").click();
        break;
    }
    corrected += 1;
    await expect(entries(timeline, "trained")).toHaveCount(corrected, { timeout: MODEL_WAIT });
    await expect(entry(timeline, corrected)).toContainText(correction);
  }
  await expect(timeline).toHaveAttribute("data-current-version", "8");
  await expect(entry(timeline, 8)).toContainText("current");
  await shot(p.page, testInfo, "learning-01-corrected.png");

  // 2. The guard, scoring the versions on the user's probes after each step, flags one of them
  //    (warn, the default: the weights stay), and says what changed.
  const flag = panel.getByTestId("guard-flag").first();
  await expect(flag).toBeVisible({ timeout: MODEL_WAIT });
  await expect(flag).toHaveAttribute("data-rolled-back", "false");
  await expect(flag).toContainText(/approved behaviour kept fell|of probes now start with the same call/);
  await panel.getByTestId("probe-chart").screenshot({ path: testInfo.outputPath("learning-02-probes.png") });

  // 3. Undo v8, v7 and v6, each after its confirmation: versions 9, 10, 11, holding the weights of
  //    v7, v6 and v5. Cancelling first changes nothing.
  await entry(timeline, 8).getByTestId("history-undo").click();
  await expect(timeline.getByTestId("history-confirm")).toContainText("Undo v8: go back to the weights of v7");
  await timeline.getByTestId("history-cancel").click();
  await expect(timeline.getByTestId("history-confirm")).toHaveCount(0);
  await expect(timeline).toHaveAttribute("data-current-version", "8");
  for (const [k, undone] of [8, 7, 6].entries()) {
    await entry(timeline, undone).getByTestId("history-undo").click();
    await expect(timeline.getByTestId("history-confirm")).toHaveAttribute("data-kind", "undo");
    if (k === 0) await shot(p.page, testInfo, "learning-03-confirm-undo.png");
    await timeline.getByTestId("history-confirm-yes").click();
    await expect(timeline.getByTestId("history-message")).toHaveText(`Now at version ${9 + k}.`, {
      timeout: MODEL_WAIT,
    });
    await expect(entry(timeline, 9 + k)).toHaveAttribute("data-event", "undo");
    await expect(entry(timeline, 9 + k)).toContainText(`undo of v${undone} (weights of v${undone - 1})`);
    await expect(entry(timeline, undone)).toHaveAttribute("data-in-current", "false");
  }
  for (const v of [1, 2, 3, 4, 5]) await expect(entry(timeline, v)).toHaveAttribute("data-in-current", "true");
  await expect(timeline).toHaveAttribute("data-current-version", "11");
  await shot(p.page, testInfo, "learning-04-undone.png");

  // 4. Reset to the base model: asked first, then v12; no trained version is in the weights.
  await timeline.getByTestId("history-reset").click();
  await expect(timeline.getByTestId("history-confirm")).toHaveAttribute("data-kind", "reset");
  await timeline.getByTestId("history-confirm-yes").click();
  await expect(timeline.getByTestId("history-message")).toHaveText("Now at version 12.", { timeout: MODEL_WAIT });
  await expect(entry(timeline, 12)).toHaveAttribute("data-event", "reset");
  await expect(
    timeline.locator('[data-testid="history-entry"][data-event="trained"][data-in-current="true"]'),
  ).toHaveCount(0);
  await expect(timeline.getByTestId("history-reset")).toBeDisabled();
  await shot(p.page, testInfo, "learning-05-reset.png");

  // 5. Every number appears once, newest first; the dashboard shows the same timeline, and the
  //    step axis (the steps' numbers) is 1 … 8, never reused.
  const numbers = await entries(timeline).evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-version"))));
  expect(numbers).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  await p.page.goto("/dashboard");
  const board = p.page.getByTestId("dashboard-timeline").getByTestId("adapter-timeline");
  await expect(board).toHaveAttribute("data-current-version", "12");
  await expect(entries(board)).toHaveCount(12);
  const steps = await p.page.locator('[data-testid="step-row"][data-status="done"]').count();
  expect(steps).toBe(8);
  await shot(p.page, testInfo, "learning-06-dashboard.png");
});
