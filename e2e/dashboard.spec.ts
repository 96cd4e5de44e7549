/**
 * The training dashboard: a new user sees an empty state, live and exportable; the export route
 * serves only the signed-in user's own steps (401 signed out); the admin team view does not
 * exist for a plain user. (Curves with real steps are checked by the full-loop spec.)
 */
import { expect, PASSWORD, test, type Persona } from "./fixtures";
import { DashboardPage } from "./pages/dashboard-page";

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

test("the export holds only the user's own steps: a user with none gets the header alone, signed out gets 401", async ({ persona, playwright, baseURL }) => {
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
    for (const url of ["/api/training-steps/export?format=csv", "/api/training-steps/stream", "/api/checkpoints/anything/peft"]) {
      const res = await anonymous.get(url);
      expect(res.status()).toBe(401);
      expect((await res.json()).code).toBe("unauthorized:auth");
    }
  } finally {
    await anonymous.dispose();
  }
});

test("a checkpoint id that is not the user's is not found for the PEFT export; a new user's settings list no checkpoints", async ({ persona }) => {
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
