import type { Locator, Page } from "@playwright/test";

/** The training column of the session page: the current step's status and the KL chart. */
export class TrainingPanel {
  constructor(private readonly page: Page) {}

  /** The current step's status: `data-status` is none, queued, running, done or failed. */
  get status(): Locator {
    return this.page.getByTestId("training-status");
  }

  /** The KL chart; `data-points` counts the measured points it draws. */
  get klChart(): Locator {
    return this.page.locator('[data-testid="kl-chart"] [data-points]');
  }
}
