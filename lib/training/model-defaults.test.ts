import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfig } from "@/lib/config/resolve";
import { EMBEDDED_MODEL } from "./models";
import { MODEL_DEFAULTS_FILE, modelDefaults, readModelDefaults } from "./model-defaults";

const dirs: string[] = [];
function modelDir(recommended: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-defaults-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "config.json"), "{}");
  fs.writeFileSync(path.join(dir, "model.safetensors"), "");
  if (recommended !== undefined) fs.writeFileSync(path.join(dir, MODEL_DEFAULTS_FILE), JSON.stringify(recommended));
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("a model's recommended settings", () => {
  it("are read and validated from continualcode.json in the model's directory", () => {
    const dir = modelDir({ recommended: { learningRate: 0.003, lossMode: "token" }, why: "measured" });
    expect(readModelDefaults(dir)).toEqual({ learningRate: 0.003, lossMode: "token" });
  });

  it("are empty for a directory without the file and for a name that is no directory (a Tinker model)", () => {
    const read = modelDefaults({});
    expect(read(modelDir(undefined))).toEqual({});
    expect(read("Qwen/Qwen3-8B")).toEqual({});
  });

  it("refuse an invalid value, an unknown setting, a server-only setting and the model itself, naming the file", () => {
    expect(() => readModelDefaults(modelDir({ recommended: { learningRate: -1 } }))).toThrow(
      /continualcode\.json: learningRate must be greater than 0/,
    );
    expect(() => readModelDefaults(modelDir({ recommended: { speed: 3 } }))).toThrow(
      /speed is not a setting a model may recommend/,
    );
    expect(() => readModelDefaults(modelDir({ recommended: { port: 80 } }))).toThrow(/port is not a setting/);
    expect(() => readModelDefaults(modelDir({ recommended: { model: "x" } }))).toThrow(/model is not a setting/);
    expect(() => readModelDefaults(modelDir({ learningRate: 1 }))).toThrow(/expected \{"recommended"/);
  });

  it("are found through the catalogue's name and re-read when the file changes", () => {
    const dir = modelDir({ recommended: { learningRate: 0.002 } });
    const read = modelDefaults({ tiny: { dir } });
    expect(read("tiny")).toEqual({ learningRate: 0.002 });
    const file = path.join(dir, MODEL_DEFAULTS_FILE);
    fs.writeFileSync(file, JSON.stringify({ recommended: { learningRate: 0.004 } }));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(read("tiny")).toEqual({ learningRate: 0.004 });
  });

  it("give the bundled model its own learning rate when nobody set one", () => {
    const { config, sources } = resolveConfig({ env: {}, modelDefaults: modelDefaults() });
    expect(config.model).toBe(EMBEDDED_MODEL);
    expect(sources.learningRate).toBe("model");
    expect(config.learningRate).toBeGreaterThan(1e-4);
  });
});
