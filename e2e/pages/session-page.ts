import { expect, type Locator, type Page } from "@playwright/test";

/** The conversation page (files | conversation | training) and the conversation list of a workspace. */
export class SessionPage {
  constructor(private readonly page: Page) {}

  async goto(id: string) {
    return this.page.goto(`/conversations/${id}`);
  }

  /** From a workspace page: starts a conversation and returns its id from the URL it opens. */
  async startFromWorkspace(): Promise<string> {
    await this.page.getByTestId("new-conversation").click();
    await this.page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
    await expect(this.page.getByTestId("session-page")).toBeVisible();
    return this.page.url().split("/").pop()!;
  }

  get composer(): Locator {
    return this.page.getByTestId("composer-input");
  }

  /** Types into the composer and sends with Enter. */
  async send(text: string) {
    await this.composer.fill(text);
    await this.composer.press("Enter");
  }

  treeEntry(path: string): Locator {
    return this.page.locator(`[data-testid="session-files"] [data-testid="tree-entry"][data-path="${path}"]`);
  }
}
