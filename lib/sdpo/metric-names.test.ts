import { describe, expect, it } from "vitest";
import { formatMetric, HEADLINE_METRICS, headlineValues, metricLabel } from "./metric-names";

describe("headline metrics", () => {
  it("are the five numbers people read first, each with a plain name and a raw key", () => {
    expect(HEADLINE_METRICS.map((m) => [m.name, m.key, m.unit])).toEqual([
      ["Loss", "loss", null],
      ["KL to teacher", "sdpo_kl", "nats per token"],
      ["Mean advantage", "credit/adv_mean", null],
      ["Tokens trained", "sdpo_tokens", "tokens"],
      ["Step time", "time/total", "seconds"],
    ]);
  });

  it("takes a step's values by key and leaves a headline it did not log empty", () => {
    const values = headlineValues({ loss: 0.5, sdpo_kl: 0.12, "time/total": 1.5 });
    expect(values.map((v) => [v.id, v.value])).toEqual([
      ["loss", 0.5],
      ["kl", 0.12],
      ["advantage", null],
      ["tokens", null],
      ["step_time", 1.5],
    ]);
  });

  it("labels a headline key by its name and any other key as logged", () => {
    expect(metricLabel("sdpo_kl")).toBe("KL to teacher");
    expect(metricLabel("credit/adv_abs_p90")).toBe("credit/adv_abs_p90");
  });

  it("formats values to four significant digits, with exponents only at the extremes", () => {
    expect([
      formatMetric(0.123456),
      formatMetric(1234),
      formatMetric(0.00001234),
      formatMetric(-2.5e6),
      formatMetric(0),
    ]).toEqual(["0.1235", "1,234", "1.23e-5", "-2.50e+6", "0"]);
  });
});
