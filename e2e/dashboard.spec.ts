/**
 * The training dashboard: a new user sees an empty state, live and exportable; the export route
 * serves only the signed-in user's own steps (401 signed out); the admin team view does not
 * exist for a plain user. After two real corrections (the embedded model, greedy), the training
 * panel, the /metrics dialog and the dashboard name the same headline numbers and count steps in
 * whole numbers; their screenshots are kept as test-results/training-panel.png, session.png and
 * dashboard.png.
 */
import { expect, PASSWORD, test, type Persona } from "./fixtures";
import { DashboardPage } from "./pages/dashboard-page";
import { ProposalCard } from "./pages/proposal-card";
import { SessionPage } from "./pages/session-page";
import { SettingsPage } from "./pages/settings-page";
import { TrainingPanel, xAxisTicks } from "./pages/training-panel";

async function signedUp(persona: (name: string) => Promise<Persona>, name: string) {
  const p = await persona(name);
  await p.auth.signUp({ name, email: p.email, password: PASSWORD });
  return { ...p, dashboard: new DashboardPage(p.page) };
}

const HEADER = "id,step,status,queued_at,finished_at";

test("a new user's dashboard renders an empty state, connects live and offers both exports", async ({ persona }) => {
  const carol = await signedUp(persona, "Carol");
  await carol.page.getByTestId("nav-dashboard").click();
  await expect(carol.dashboard.root()).toBeVisible();
  await expect(carol.dashboard.emptyState()).toBeVisible();
  await expect(carol.page.getByTestId("step-status-empty")).toBeVisible();
  await expect(carol.dashboard.streamStatus()).toHaveText("live");
  await expect(carol.page.getByTestId("export-csv")).toHaveAttribute("href", "/api/training-steps/export?format=csv");
  await expect(carol.page.getByTestId("export-json")).toHaveAttribute("href", "/api/training-steps/export?format=json");
  await expect(carol.page.getByTestId("smoothing-slider")).toHaveValue("0.6");
});

test("the export holds only the user's own steps: a user with none gets the header alone, signed out gets 401", async ({
  persona,
  playwright,
  baseURL,
}) => {
  const dan = await signedUp(persona, "Dan");
  const erin = await signedUp(persona, "Erin");

  for (const user of [dan, erin]) {
    const csv = await user.dashboard.export("csv");
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect(csv.headers()["content-disposition"]).toMatch(/^attachment; filename="training-steps-.*\.csv"$/);
    expect(await csv.text()).toBe(`${HEADER}\r\n`);

    const json = await user.dashboard.export("json");
    expect(json.status()).toBe(200);
    expect(json.headers()["content-disposition"]).toMatch(/\.json"$/);
    expect(await json.json()).toEqual([]);
  }

  const bad = await dan.page.request.get("/api/training-steps/export?format=xml");
  expect(bad.status()).toBe(400);

  const anonymous = await playwright.request.newContext({ baseURL });
  try {
    for (const url of [
      "/api/training-steps/export?format=csv",
      "/api/training-steps/stream",
      "/api/checkpoints/anything/peft",
    ]) {
      const res = await anonymous.get(url);
      expect(res.status()).toBe(401);
      expect((await res.json()).code).toBe("unauthorized:auth");
    }
  } finally {
    await anonymous.dispose();
  }
});

test("a checkpoint id that is not the user's is not found for the PEFT export; a new user's settings list no checkpoints", async ({
  persona,
}) => {
  const frank = await signedUp(persona, "Frank");
  const res = await frank.page.request.get(`/api/checkpoints/${crypto.randomUUID()}/peft`);
  expect(res.status()).toBe(404);
  expect((await res.json()).code).toBe("not_found:checkpoint");
  await frank.page.goto("/settings");
  await expect(frank.page.getByTestId("checkpoints-section")).toBeVisible();
  await expect(frank.page.getByTestId("checkpoints-empty")).toBeVisible();
});

test("the admin team view is a not-found page for a plain user, with no link to it", async ({ persona }) => {
  const gina = await signedUp(persona, "Gina");
  await expect(gina.page.getByTestId("nav-team")).toHaveCount(0);
  const response = await gina.dashboard.gotoTeam();
  expect(response?.status()).toBe(404);
  await expect(gina.page.getByTestId("not-found")).toBeVisible();
  await expect(gina.page.getByTestId("team-page")).toHaveCount(0);
});

// The loop spec's task: the bundled model answers it with a file-writing call.
const TASK = "Create stats.py with a function `total_apples` that returns the sum of a and b.";
const CORRECTION = "Keep the new file short and name it in the first line.";
const HEADLINES = ["Loss", "KL to teacher", "Mean advantage", "Tokens trained", "Step time"];
const MODEL_WAIT = 90_000;

test("after two corrections the panel, /metrics and the dashboard name the same headline numbers and count steps in whole numbers", async ({
  persona,
}) => {
  test.setTimeout(400_000);
  const hana = await signedUp(persona, "Hana");
  const { page } = hana;
  const settings = new SettingsPage(page);
  await settings.goto();
  await settings.set("temperature", "0");
  await expect(settings.result).toHaveText("Saved.");
  await hana.workspaces.create("hana metrics");
  const session = new SessionPage(page);
  await session.startFromWorkspace();
  const card = new ProposalCard(page);
  const training = new TrainingPanel(page);

  // 1. Correct the agent until two steps have trained: deny a proposal, correct a failed call, or ask again after an answer.
  //    A message is on the page once the conversation has left idle for it, so idle again means an answer.
  const ask = async () => {
    const sent = await page.getByTestId("user-message").count();
    await session.send(TASK);
    await expect(page.getByTestId("user-message")).toHaveCount(sent + 1);
  };
  await ask();
  const seen: string[] = [];
  while ((await training.doneSteps.count()) < 2) {
    expect(seen.length, `two steps did not train after ${seen.length} stops`).toBeLessThan(6);
    const next = await card.waitForNext(seen, MODEL_WAIT, true);
    seen.push(next.key);
    const before = await training.recentSteps.count();
    if (next.kind === "answer") {
      await ask();
      continue;
    }
    if (next.kind === "proposal") await card.denyWith(CORRECTION);
    else {
      await card.failure.getByTestId("correction-input").fill(CORRECTION);
      await card.failure.getByTestId("correction-submit").click();
    }
    await expect(training.recentSteps).toHaveCount(before + 1, { timeout: MODEL_WAIT });
    await expect(training.status).toHaveAttribute("data-status", /^(done|failed)$/, { timeout: MODEL_WAIT });
    expect(await training.status.getAttribute("data-status"), await training.status.innerText()).toBe("done");
  }
  await expect(training.klChart).toHaveAttribute("data-points", "2");

  // 2. The panel: the headline numbers by name, the raw keys folded away, whole steps on the x axis.
  await expect(training.headlineNames).toHaveText(HEADLINES);
  const raw = training.rawMetrics.locator('[data-testid="raw-metric"][data-key="credit/adv_abs_p90"]');
  await expect(raw).toBeHidden();
  await training.rawMetrics.locator("summary").click();
  await expect(raw).toBeVisible();
  const klTicks = xAxisTicks(page.getByTestId("kl-chart"));
  await expect(klTicks.first()).toBeVisible();
  // Soft: the tick and layout checks are independent, so a run reports every one that fails.
  for (const tick of await klTicks.allTextContents()) expect.soft(tick).toMatch(/^\d+$/);
  await expect(training.recentSteps.first().locator("td").first()).toHaveText(/^#\d+$/);
  // The step table is shown whole in the scrolling panel, never squeezed down to its header row.
  expect
    .soft(await page.getByTestId("recent-steps").evaluate((el) => el.scrollHeight - el.clientHeight))
    .toBeLessThanOrEqual(1);
  await page.screenshot({ path: "test-results/session.png", fullPage: true });
  // The panel scrolls within the page; a tall window shows all of it at once.
  await page.setViewportSize({ width: 1280, height: 2000 });
  await training.root.screenshot({ path: "test-results/training-panel.png" });
  await page.setViewportSize({ width: 1280, height: 720 });

  // 3. /metrics shows the same names.
  await session.send("/metrics");
  await expect(page.locator('[data-testid="metrics-panel"] [data-testid="headline-metric"] dt')).toHaveText(HEADLINES);
  await page.getByTestId("metrics-close").click();

  // 4. The dashboard: the same names on its series and charts, whole steps on its axes.
  await hana.dashboard.goto();
  await expect(hana.dashboard.seriesLabels()).toContainText([
    "Loss",
    "KL to teacher",
    "Advantages",
    "Tokens trained",
    "Step time (s)",
  ]);
  const kl = hana.dashboard.chart("sdpo_kl");
  await expect(kl.locator("h3")).toHaveText("KL to teacher");
  await expect(kl).toHaveAttribute("data-points", "2");
  const ticks = xAxisTicks(kl);
  await expect(ticks.first()).toBeVisible();
  for (const tick of await ticks.allTextContents()) expect.soft(tick).toMatch(/^\d+$/);
  await expect(
    hana.dashboard.chart("credit_adv_mean-credit_adv_abs_mean").locator(".recharts-legend-item-text"),
  ).toHaveText(["Mean advantage", "credit/adv_abs_mean"]);
  await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
});
