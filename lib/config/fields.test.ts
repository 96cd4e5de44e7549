import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, fieldInfo, fieldsByGroup, rangeText, SETTING_GROUPS } from "./fields";
import { DEFAULTS } from "./schema";
import { availableModels, defaultCatalogue } from "@/lib/training/models";

describe("the settings table as people read it", () => {
  it("puts every setting in one of the named groups, each group holding at least one", () => {
    const groups = fieldsByGroup();
    expect(groups.map((g) => g.group)).toEqual([...SETTING_GROUPS]);
    expect(groups.flatMap((g) => g.fields.map((f) => f.key)).sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it("gives every setting a label and a one-line description that are not its flag", () => {
    for (const f of fieldInfo()) {
      expect(f.label.length, f.key).toBeGreaterThan(0);
      expect(f.label, f.key).not.toContain("--");
      expect(f.description, f.key).not.toContain("\n");
      expect(f.description.length, f.key).toBeGreaterThan(f.label.length);
    }
  });

  it("states ranges from the schema the value is checked against", () => {
    expect(rangeText("temperature")).toBe("0 to 2");
    expect(rangeText("learningRate")).toBe("more than 0, up to 1");
    expect(rangeText("isClip")).toBe("more than 1, up to 100");
    expect(rangeText("maxTokens")).toBe("1 to 131,072");
    expect(rangeText("saveEvery")).toBe("0 or more");
    expect(rangeText("loraRank")).toBe("one of 1, 2, 4, 8, 16, 32, 64, 128, 256");
    expect(rangeText("training")).toBe("on or off");
    expect(rangeText("model")).toBeNull();
  });

  it("names the unit of the settings that count something", () => {
    const unit = Object.fromEntries(fieldInfo().map((f) => [f.key, f.unit]));
    expect(unit).toMatchObject({
      maxTokens: "tokens",
      bashTimeoutSec: "seconds",
      maxSteps: "tool calls",
      saveEvery: "training steps",
      teacherRefreshEvery: "training steps",
      temperature: null,
    });
  });

  it("says what every setting without a default means when unset, secrets aside", () => {
    for (const f of fieldInfo()) {
      if (f.default === undefined && !f.secret) expect(f.whenUnset, f.key).toBeTruthy();
    }
  });
});

describe("the reply length limit's default", () => {
  it("never asks for more tokens than the bundled model's context holds", () => {
    const bundled = availableModels(defaultCatalogue()).find((m) => m.modelName === DEFAULTS.model);
    expect(bundled?.maxContextLength).toBeGreaterThan(0);
    // auto (unset) takes what the context leaves; a fixed default would have to fit inside it.
    expect(DEFAULTS.maxTokens === undefined || DEFAULTS.maxTokens < bundled!.maxContextLength!).toBe(true);
    expect(fieldInfo().find((f) => f.key === "maxTokens")?.whenUnset).toBe("auto");
  });
});
