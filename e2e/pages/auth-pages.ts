import { expect, type Page } from "@playwright/test";

/** The sign-up and sign-in screens. */
export class AuthPages {
  constructor(private readonly page: Page) {}

  async signUp({ name, email, password }: { name: string; email: string; password: string }) {
    await this.page.goto("/sign-up");
    await this.page.getByTestId("name-input").fill(name);
    await this.page.getByTestId("email-input").fill(email);
    await this.page.getByTestId("password-input").fill(password);
    await this.page.getByTestId("sign-up-submit").click();
    await expect(this.page.getByTestId("current-user")).toContainText(email);
  }

  async signIn({ email, password }: { email: string; password: string }) {
    await this.page.goto("/sign-in");
    await this.page.getByTestId("email-input").fill(email);
    await this.page.getByTestId("password-input").fill(password);
    await this.page.getByTestId("sign-in-submit").click();
    await expect(this.page.getByTestId("current-user")).toContainText(email);
  }

  async signOut() {
    await this.page.getByTestId("sign-out").click();
    await expect(this.page).toHaveURL(/\/sign-in$/);
  }
}
