import { describe, expect, it } from "vitest";
import { csvField, csvRow, stepCsvHeader, stepCsvRow, stepJsonRecord } from "./csv";

const step = {
  id: "s1",
  step: 3,
  status: "done",
  queuedAt: new Date("2026-01-02T03:04:05.000Z"),
  finishedAt: new Date("2026-01-02T03:04:09.500Z"),
  metrics: { loss: 0.25, sdpo_kl: 1e-7 },
};

describe("csv encoding", () => {
  it("plain fields are written as they are", () => {
    expect(csvRow(["a", 1, 2.5])).toBe("a,1,2.5\r\n");
  });

  it("a field with a comma, a quote or a newline is quoted and its quotes doubled", () => {
    expect(csvField('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvField("cr\rhere")).toBe('"cr\rhere"');
  });

  it("null and undefined are empty cells", () => {
    expect(csvRow([null, "x", undefined])).toBe(",x,\r\n");
  });

  it("the header is the fixed columns then the metric keys, quoted where needed", () => {
    expect(stepCsvHeader(["loss", "credit/adv_mean", "odd,key"])).toBe(
      'id,step,status,queued_at,finished_at,loss,credit/adv_mean,"odd,key"\r\n',
    );
  });

  it("a metric the step did not log is an empty cell", () => {
    expect(stepCsvRow(step, ["loss", "entropy/student", "sdpo_kl"])).toBe(
      "s1,3,done,2026-01-02T03:04:05.000Z,2026-01-02T03:04:09.500Z,0.25,,1e-7\r\n",
    );
  });

  it("a queued step has empty step, finished_at and metrics", () => {
    const queued = { ...step, step: null, status: "queued", finishedAt: null, metrics: null };
    expect(stepCsvRow(queued, ["loss"])).toBe("s1,,queued,2026-01-02T03:04:05.000Z,,\r\n");
  });

  it("the JSON record has the same flat columns with null for what is missing", () => {
    expect(stepJsonRecord(step, ["loss", "time/total"])).toEqual({
      id: "s1",
      step: 3,
      status: "done",
      queued_at: "2026-01-02T03:04:05.000Z",
      finished_at: "2026-01-02T03:04:09.500Z",
      loss: 0.25,
      "time/total": null,
    });
  });
});
