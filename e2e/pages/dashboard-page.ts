import type { APIResponse, Page } from "@playwright/test";

/** The training dashboard, its export route, and the admin's team view. */
export class DashboardPage {
  constructor(private readonly page: Page) {}

  goto() {
    return this.page.goto("/dashboard");
  }

  gotoTeam() {
    return this.page.goto("/admin/team");
  }

  root() {
    return this.page.getByTestId("dashboard-page");
  }

  emptyState() {
    return this.page.getByTestId("dashboard-empty");
  }

  streamStatus() {
    return this.page.getByTestId("stream-status");
  }

  /** The series picker's labels, in order. */
  seriesLabels() {
    return this.page.locator('[data-testid="series-picker"] label');
  }

  /** The chart of one series by its metric keys' slug (`metric-chart-sdpo_kl`). */
  chart(slug: string) {
    return this.page.getByTestId(`metric-chart-${slug}`);
  }

  /** GET /api/training-steps/export with this persona's cookies. */
  export(format: "csv" | "json"): Promise<APIResponse> {
    return this.page.request.get(`/api/training-steps/export?format=${format}`);
  }
}
