import type { Locator, Page } from "@playwright/test";

/** The training column of the conversation page: the current step's status, its charts and the last step's numbers. */
export class TrainingPanel {
  constructor(private readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId("training-panel");
  }

  /** The current step's status: `data-status` is none, queued, running, done or failed. */
  get status(): Locator {
    return this.page.getByTestId("training-status");
  }

  /** The KL chart; `data-points` counts the measured points it draws. */
  get klChart(): Locator {
    return this.page.locator('[data-testid="kl-chart"] [data-points]');
  }

  /** The names of the last step's headline numbers, in order. */
  get headlineNames(): Locator {
    return this.root.locator('[data-testid="headline-metric"] dt');
  }

  /** The disclosure holding every key the step logged, as logged. */
  get rawMetrics(): Locator {
    return this.root.getByTestId("raw-metrics");
  }

  get recentSteps(): Locator {
    return this.root.locator('[data-testid="recent-steps"] [data-testid="step-row"]');
  }

  get doneSteps(): Locator {
    return this.root.locator('[data-testid="recent-steps"] [data-testid="step-row"][data-status="done"]');
  }
}

/** The tick labels of a chart's x axis (the step axis by default), in order; recharts draws them in their own layer. */
export function xAxisTicks(chart: Locator): Locator {
  return chart.locator(".recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value");
}
