/**
 * End-to-end tests in Debian's Chromium against a production build, started by `continualcode`
 * as `npm start` starts it (build, migrate, `next start`), on its own port and its own fresh data
 * directory (PGlite + workspaces), so a run never sees another run's accounts. Projects run in
 * order: "accounts" needs the empty instance (the first sign-up becomes admin), then "ide" and
 * "authorisation" add their own personas; "first-start" reads the server's start-up output.
 * E2E_SKIP_BUILD=1 reuses an existing .next build.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

const PORT = Number(process.env.E2E_PORT ?? 3100);
const BASE_URL = `http://127.0.0.1:${PORT}`;

// The config is evaluated again in every worker; the env var keeps them on the one directory.
if (!process.env.E2E_DATA_DIR) {
  process.env.E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), `cc-e2e-${Date.now()}-`));
}
const dataDir = process.env.E2E_DATA_DIR;

// The server starts as `npm start` starts it on a fresh checkout: `continualcode` with no build
// (unless E2E_SKIP_BUILD=1 reuses the last one) into an empty data directory. Its console output
// is kept in test-results/first-start.log, which Playwright clears before it starts the server;
// e2e/first-start.spec.ts reads it.
const fromNoBuild = process.env.E2E_SKIP_BUILD === "1" ? "" : "rm -rf .next && ";

export default defineConfig({
  testDir: "e2e",
  globalTeardown: "./e2e/global-teardown.ts",
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"], ["html", { open: "never" }]],
  outputDir: "test-results",
  use: {
    baseURL: BASE_URL,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "first-start", testMatch: /first-start\.spec\.ts/ },
    { name: "accounts", testMatch: /accounts\.spec\.ts/ },
    { name: "ide", testMatch: /(workspaces|settings|dashboard|session)\.spec\.ts/, dependencies: ["accounts"] },
    { name: "loop", testMatch: /loop\.spec\.ts/, dependencies: ["accounts"] },
    { name: "learning", testMatch: /learning\.spec\.ts/, dependencies: ["accounts"] },
    { name: "review", testMatch: /review\.spec\.ts/, dependencies: ["accounts"] },
    { name: "authorisation", testMatch: /(authorisation|file-race)\.spec\.ts/, dependencies: ["accounts"] },
  ],
  webServer: {
    command: `${fromNoBuild}mkdir -p test-results && node bin/continualcode --port ${PORT} --data-dir ${dataDir} 2>&1 | tee test-results/first-start.log`,
    url: `${BASE_URL}/api/health`,
    // A build on 2 busy cores takes about 4 minutes.
    timeout: 420_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      CONTINUALCODE_DATA_DIR: dataDir,
      DATABASE_URL: "",
      NODE_ENV: "production",
      // Each persona stands for its own client machine by its X-Forwarded-For (e2e/fixtures.ts), as
      // a reverse proxy would say it, so the sign-up rate limit applies per persona.
      CONTINUALCODE_TRUST_PROXY: "true",
    },
  },
});
