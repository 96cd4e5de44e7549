/**
 * The run's server is a real first start (playwright.config.ts): `continualcode` from no build
 * into an empty data directory, its console output kept in test-results/first-start.log. Here:
 * that output says what each phase is doing, carries no telemetry notice and no build warning,
 * logs the settings in effect, and the server it started answers `/` with an uncacheable redirect.
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";

const LOG = path.join("test-results", "first-start.log");
const PORT = Number(process.env.E2E_PORT ?? 3100);
const rebuilt = process.env.E2E_SKIP_BUILD !== "1";

/** The log once the server has said it is serving (it says so just after /api/health answers). */
async function firstStartLog(): Promise<string> {
  await expect.poll(() => fs.existsSync(LOG) && fs.readFileSync(LOG, "utf8").includes("serving at")).toBe(true);
  return fs.readFileSync(LOG, "utf8");
}

/** A build stage's line: its label, the time elapsed every half minute if it is long, its outcome. */
function buildStage(label: string): RegExp {
  return new RegExp(`^continualcode: {3}${label} … ([^…]+ … )*done in [^…]+$`);
}

// biome-ignore lint/correctness/noEmptyPattern: Playwright reads the first parameter as a fixtures pattern, so none is `{}`.
test("the first start says what it is doing, one line per phase, then where it serves", async ({}, testInfo) => {
  const output = await firstStartLog();
  await testInfo.attach("first-start.log", { path: LOG, contentType: "text/plain" });
  const lines = output.split("\n").filter((l) => l.startsWith("continualcode: "));
  const dataDir = process.env.E2E_DATA_DIR!;
  const expected: RegExp[] = [
    ...(rebuilt
      ? [
          /^continualcode: checking the build … none yet$/,
          /^continualcode: building the app \(first start only; about 1–5 min on 2 cores\) …$/,
          ...["compiling", "checking types", "collecting page data", "generating pages", "finalizing"].map(buildStage),
          /^continualcode: built the app in .+ \(next build's output: .+\/logs\/next-build\.log\)$/,
        ]
      : [/^continualcode: checking the build … found, built \d{4}-\d\d-\d\d \d\d:\d\d UTC$/]),
    new RegExp(`^continualcode: migrating the database \\(PGlite in ${dataDir}/db\\) … done in `),
    new RegExp(`^continualcode: serving at http://localhost:${PORT} \\(ready in [^)]+\\)$`),
  ];
  // Each phase is one line, in this order (a long step's line grows by the time elapsed).
  expect(lines).toHaveLength(expected.length);
  for (const [i, line] of lines.entries()) expect(line).toMatch(expected[i]!);
});

test("the first start shows no telemetry notice and no build warning", async () => {
  const output = await firstStartLog();
  expect(output).not.toMatch(/telemetry/i);
  expect(output).not.toMatch(/warning|⚠/i);
  if (rebuilt) {
    const build = fs.readFileSync(path.join(process.env.E2E_DATA_DIR!, "logs", "next-build.log"), "utf8");
    expect(build).toContain("Compiled successfully");
    expect(build).not.toMatch(/warning|⚠|telemetry/i);
  }
});

test("the start logs the settings in effect: the bundled model's learning rate, and where it came from", async () => {
  const output = await firstStartLog();
  const starting = output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; config?: { learningRate: number }; from?: Record<string, string> })
    .find((entry) => entry.msg === "starting");
  expect(starting?.config?.learningRate).toBe(0.002);
  expect(starting?.from).toMatchObject({ learningRate: "model", port: "flag", dataDir: "flag" });
});

test("/ redirects to the workspaces with a response no cache may keep", async ({ request }) => {
  const res = await request.get("/", { maxRedirects: 0 });
  expect(res.status()).toBe(307);
  expect(res.headers().location).toBe("/workspaces");
  expect(res.headers()["cache-control"]).toContain("no-store");
  expect(res.headers()["cache-control"]).not.toContain("s-maxage");
});

test("files in public/ are served as they are", async ({ request }) => {
  const res = await request.get("/robots.txt");
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain("Disallow: /");
});
