import type { Locator, Page } from "@playwright/test";

/** The settings page: settings in named groups, each row with its value, source and override. */
export class SettingsPage {
  constructor(private readonly page: Page) {}

  goto() {
    return this.page.goto("/settings");
  }

  /** The group headings, in the order shown. */
  get groups(): Locator {
    return this.page.getByTestId("settings-group");
  }

  group(name: string): Locator {
    return this.page.locator(`[data-testid="settings-group"][data-group="${name}"]`);
  }

  row(key: string): Locator {
    return this.page.locator(`[data-testid="setting-row"][data-key="${key}"]`);
  }

  /** Sets the user's own value (an empty string clears it) and saves the form. */
  async set(key: string, value: string) {
    await this.page.getByTestId(`setting-input-${key}`).fill(value);
    await this.page.getByTestId("settings-save").click();
  }

  get result(): Locator {
    return this.page.getByTestId("settings-result");
  }
}
