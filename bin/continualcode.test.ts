import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, envName, flagName } from "@/lib/config";

const BIN = path.resolve(import.meta.dirname, "continualcode");

/** Runs the real command from another directory, with none of our configuration in its env. */
function run(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("CONTINUALCODE_") && k !== "PORT"),
  );
  const childEnv = { ...clean, ...env } as NodeJS.ProcessEnv;
  const r = spawnSync(BIN, args, { cwd: "/", env: childEnv, encoding: "utf8", timeout: 25_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("bin/continualcode", () => {
  it("--help lists every flag with its default and environment variable, and exits 0", () => {
    const { code, stdout, stderr } = run(["--help"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    for (const key of CONFIG_KEYS) {
      expect(stdout).toContain(key === "training" || key === "sdpo" ? `--no-${key}` : flagName(key));
      expect(stdout).toContain(envName(key));
    }
    expect(stdout).toContain("(default 0.7; 0 to 2; env CONTINUALCODE_TEMPERATURE; per-user setting)");
    expect(stdout).toContain("TINKER_API_KEY");
  });

  it("help is also printed when --help follows other flags", () => {
    const { code, stdout } = run(["--port", "3100", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--learning-rate <number>");
  });

  it("a bad flag value exits non-zero with a message naming the flag", () => {
    const { code, stdout, stderr } = run(["--temperature", "abc"]);
    expect(code).toBe(2);
    expect(stderr).toBe("continualcode: --temperature: expected a number, got 'abc'\n");
    expect(stdout).toBe("");
  });

  it("the serve subcommand takes the same flags", () => {
    const { code, stderr } = run(["serve", "--lora-rank", "48"]);
    expect(code).toBe(2);
    expect(stderr).toBe("continualcode: --lora-rank: must be a power of two (1, 2, 4 … 256), got '48'\n");
  });

  it("an unknown flag is rejected by name", () => {
    const { code, stderr } = run(["--no-such-flag", "1"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--no-such-flag: unknown flag");
  });

  it("a bad environment variable is rejected by name", () => {
    const { code, stderr } = run([], { CONTINUALCODE_LORA_RANK: "3" });
    expect(code).toBe(2);
    expect(stderr).toContain("CONTINUALCODE_LORA_RANK: must be a power of two");
  });

  it("an unknown subcommand exits non-zero and lists the commands", () => {
    const { code, stderr } = run(["frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toBe("continualcode: unknown command 'frobnicate' (commands: serve, trainer, tool; see --help)\n");
  });
});
