/**
 * End-to-end tests in Debian's Chromium against a production build (`next build && next start`)
 * on its own port and its own fresh data directory (PGlite + workspaces), so a run never sees
 * another run's accounts. Projects run in order: "accounts" needs the empty instance (the first
 * sign-up becomes admin), then "ide" and "authorisation" add their own personas.
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

const build = process.env.E2E_SKIP_BUILD === "1" ? "" : "npx next build && ";

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
    { name: "accounts", testMatch: /accounts\.spec\.ts/ },
    { name: "ide", testMatch: /(workspaces|settings|dashboard|session)\.spec\.ts/, dependencies: ["accounts"] },
    { name: "loop", testMatch: /loop\.spec\.ts/, dependencies: ["accounts"] },
    { name: "authorisation", testMatch: /authorisation\.spec\.ts/, dependencies: ["accounts"] },
  ],
  webServer: {
    command: `${build}npx next start -p ${PORT} -H 127.0.0.1`,
    url: `${BASE_URL}/api/health`,
    timeout: 240_000,
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
