import { expect, type Page } from "@playwright/test";

/** The admin page: sign-up switch, account creation, users list. */
export class AdminPage {
  constructor(private readonly page: Page) {}

  async goto() {
    return this.page.goto("/admin");
  }

  async setSignup(open: boolean) {
    const state = this.page.getByTestId("signup-state");
    if ((await state.textContent()) !== (open ? "open" : "closed"))
      await this.page.getByTestId("signup-toggle").click();
    await expect(state).toHaveText(open ? "open" : "closed");
  }

  async createAccount({ name, email, password }: { name: string; email: string; password: string }) {
    await this.page.getByTestId("new-account-name").fill(name);
    await this.page.getByTestId("new-account-email").fill(email);
    await this.page.getByTestId("new-account-password").fill(password);
    await this.page.getByTestId("create-account-submit").click();
    await expect(this.page.getByTestId("create-account-message")).toHaveText(`Created ${email}.`);
  }

  roleOf(email: string) {
    return this.page.locator(`[data-testid="user-row"][data-email="${email}"] [data-testid="user-role"]`);
  }
}
