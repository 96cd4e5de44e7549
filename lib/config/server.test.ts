import { expect, it } from "vitest";
import { saveUserSettings } from "@/lib/db/queries/user-settings";
import { forEachDriver, makeUser } from "@/lib/db/test-db";
import { flagsToEnv } from "./env";
import { configForUser, serverConfig } from "./server";

it("the server's configuration is read from the environment the command prepared", () => {
  const env = { ...flagsToEnv({ maxTokens: 256 }), CONTINUALCODE_LOSS_MODE: "full_kl" };
  const { config, sources } = serverConfig(env);
  expect([config.maxTokens, sources.maxTokens, config.lossMode, sources.lossMode]).toEqual([
    256,
    "flag",
    "full_kl",
    "env",
  ]);
});

it("the bundled model's recommended learning rate applies until someone sets one", () => {
  const recommended = serverConfig({});
  expect(recommended.sources.learningRate).toBe("model");
  expect(recommended.config.learningRate).toBeGreaterThan(1e-4);
  expect(serverConfig({ CONTINUALCODE_LEARNING_RATE: "2e-5" }).config.learningRate).toBe(2e-5);
});

forEachDriver("configForUser", (db) => {
  it("a user's stored settings win over the server's, and other users keep the server's", async () => {
    const a = await makeUser(db());
    const b = await makeUser(db());
    await saveUserSettings({ db: db(), userId: a.id, settings: { temperature: 0.1, port: 1 } });
    const env = { CONTINUALCODE_TEMPERATURE: "0.5" };
    const forA = await configForUser({ db: db(), userId: a.id, env });
    const forB = await configForUser({ db: db(), userId: b.id, env });
    expect([forA.config.temperature, forA.sources.temperature, forA.config.port]).toEqual([0.1, "user", 3000]);
    expect([forB.config.temperature, forB.sources.temperature]).toEqual([0.5, "env"]);
  });
});
