import { expect, type Locator, type Page } from "@playwright/test";

/** The workspace list: create, open, rename, delete. */
export class WorkspacesPage {
  constructor(private readonly page: Page) {}

  async goto() {
    await this.page.goto("/workspaces");
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="workspace-row"][data-workspace-name="${name}"]`);
  }

  /** Creates a workspace from the calculator example (or empty) and returns its id from the URL it opens. */
  async create(name: string, example: "calculator" | "" = "calculator"): Promise<string> {
    await this.goto();
    await this.page.getByTestId("workspace-name-input").fill(name);
    await this.page.getByTestId("workspace-example-select").selectOption(example);
    await this.page.getByTestId("create-workspace-submit").click();
    await this.page.waitForURL(/\/workspaces\/[0-9a-f-]{36}$/);
    await expect(this.page.getByTestId("workspace-title")).toHaveText(name);
    return this.page.url().split("/").pop()!;
  }

  async rename(from: string, to: string) {
    const row = this.row(from);
    await row.getByTestId("rename-button").click();
    await row.getByTestId("rename-input").fill(to);
    await row.getByTestId("rename-submit").click();
  }

  async delete(name: string) {
    const row = this.row(name);
    await row.getByTestId("delete-button").click();
    await row.getByTestId("delete-confirm").click();
  }

  /**
   * Submits the rename form of the workspace `ownName` with its hidden id replaced by `targetId`:
   * what a user who edits the page (or replays the action) would send.
   */
  async renameWithTamperedId(ownName: string, targetId: string, newName: string) {
    const row = this.row(ownName);
    await row.getByTestId("rename-button").click();
    await row.getByTestId("rename-id").evaluate((el, id) => ((el as HTMLInputElement).value = id), targetId);
    await row.getByTestId("rename-input").fill(newName);
    await row.getByTestId("rename-submit").click();
  }

  async deleteWithTamperedId(ownName: string, targetId: string) {
    const row = this.row(ownName);
    await row.getByTestId("delete-button").click();
    await row.getByTestId("delete-id").evaluate((el, id) => ((el as HTMLInputElement).value = id), targetId);
    await row.getByTestId("delete-confirm").click();
  }
}
