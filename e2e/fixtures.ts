/**
 * Named personas for e2e tests. Each persona is a fresh account in its own browser context (its
 * own cookies), with page objects bound to its page; emails carry a run tag so specs never clash.
 */
import { test as base, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { AdminPage } from "./pages/admin-page";
import { AuthPages } from "./pages/auth-pages";
import { WorkspacePage } from "./pages/workspace-page";
import { WorkspacesPage } from "./pages/workspaces-page";

export const PASSWORD = "correct-horse-battery-staple";

export type Persona = {
  name: string;
  email: string;
  context: BrowserContext;
  page: Page;
  auth: AuthPages;
  workspaces: WorkspacesPage;
  workspace: WorkspacePage;
  admin: AdminPage;
};

let clients = 0;

/**
 * Each persona is its own client: a separate cookie jar and its own forwarded address, so the
 * auth rate limit (a few sign-ups per address per window) applies per persona, as for real users.
 * The e2e server runs with --trust-proxy (playwright.config.ts), so it reads that address as a
 * proxy's; without it the limit keys on the socket, which all personas share.
 */
export async function openPersona(browser: Browser, name: string, email = uniqueEmail(name)): Promise<Persona> {
  clients += 1;
  const context = await browser.newContext({
    extraHTTPHeaders: { "x-forwarded-for": `10.${process.pid % 250}.${Math.floor(clients / 250)}.${clients % 250}` },
  });
  const page = await context.newPage();
  return {
    name,
    email,
    context,
    page,
    auth: new AuthPages(page),
    workspaces: new WorkspacesPage(page),
    workspace: new WorkspacePage(page),
    admin: new AdminPage(page),
  };
}

export function uniqueEmail(name: string): string {
  return `${name.toLowerCase()}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.test`;
}

/** `persona(name)` opens a browser context for a new persona; all are closed after the test. */
export const test = base.extend<{ persona: (name: string) => Promise<Persona> }>({
  persona: async ({ browser }, use) => {
    const opened: Persona[] = [];
    await use(async (name) => {
      const p = await openPersona(browser, name);
      opened.push(p);
      return p;
    });
    for (const p of opened) await p.context.close();
  },
});

export { expect } from "@playwright/test";
