import { expect, type Locator, type Page } from "@playwright/test";

/** One workspace: its file tree and the read-only Monaco viewer. */
export class WorkspacePage {
  constructor(private readonly page: Page) {}

  async goto(id: string) {
    return this.page.goto(`/workspaces/${id}`);
  }

  treeEntry(path: string): Locator {
    return this.page.locator(`[data-testid="tree-entry"][data-path="${path}"]`);
  }

  async treePaths(): Promise<string[]> {
    return this.page.getByTestId("tree-entry").evaluateAll((els) => els.map((e) => e.getAttribute("data-path") ?? ""));
  }

  /** Opens a file and waits until Monaco has rendered it. */
  async open(path: string) {
    await this.treeEntry(path).click();
    await expect(this.page.getByTestId("viewer-path")).toHaveText(path);
    await expect(this.page.locator('[data-testid="monaco-viewer"] .view-lines')).toBeVisible();
  }

  /** The text Monaco shows, line by line (non-breaking spaces as plain spaces). */
  async viewerText(): Promise<string> {
    const lines = await this.page.locator('[data-testid="monaco-viewer"] .view-line').allInnerTexts();
    return lines.map((l) => l.replace(/\u00a0/g, " ")).join("\n");
  }
}
