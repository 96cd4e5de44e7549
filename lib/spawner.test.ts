import { describe, expect, it } from "vitest";
import { execFromHelper, spawnFromHelper, stopHelperForTests, type SpawnRequest } from "./spawner";

const ENV = { PATH: "/usr/bin:/bin" };
const sh = (script: string, more: Partial<SpawnRequest> = {}): SpawnRequest => ({
  file: "/bin/sh",
  args: ["-c", script],
  env: ENV,
  detached: true,
  graceMs: 200,
  ...more,
});

/** Runs a request to its end, collecting stdout and stderr apart. */
async function run(request: SpawnRequest) {
  const out: Record<1 | 2, string> = { 1: "", 2: "" };
  const call = spawnFromHelper(request, (chunk, stream) => {
    out[stream] += chunk.toString();
  });
  return { ...(await call.done), stdout: out[1], stderr: out[2] };
}

describe("the process spawner", () => {
  it("runs a command from the helper process, not this one, and streams its output and exit code back", async () => {
    const ran = await run(sh('echo "parent $PPID"; echo oops >&2; exit 3'));
    expect(ran).toMatchObject({ code: 3, signal: null, error: null, stderr: "oops\n" });
    const parent = Number(/^parent (\d+)/.exec(ran.stdout)?.[1]);
    expect(parent).toBeGreaterThan(0);
    expect(parent).not.toBe(process.pid);
  });

  it("passes the request's environment and working directory, nothing of the server's", async () => {
    process.env.SPAWNER_TEST_SECRET = "server-only";
    try {
      const ran = await run(
        sh('pwd; echo "secret=$SPAWNER_TEST_SECRET only=$ONLY"', { cwd: "/tmp", env: { ...ENV, ONLY: "given" } }),
      );
      expect(ran.stdout).toBe("/tmp\nsecret= only=given\n");
    } finally {
      delete process.env.SPAWNER_TEST_SECRET;
    }
  });

  it("writes fd 3 and closes it", async () => {
    expect((await run(sh("cat <&3", { fd3: "a\0b" }))).stdout).toBe("a\0b");
  });

  it("kill takes the whole process group, background jobs included", async () => {
    const started = Date.now();
    const call = spawnFromHelper(sh("sleep 30 & sleep 30; echo never"));
    setTimeout(() => call.kill(), 200);
    const end = await call.done;
    expect(end.signal).toBe("SIGKILL");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a command that cannot start ends with the reason", async () => {
    const ran = await run({ ...sh(""), file: "/nonexistent/tool" });
    expect(ran.error).toContain("ENOENT");
  });

  it("a helper that dies ends its running commands with an error, and the next command starts a new helper", async () => {
    const call = spawnFromHelper(sh("sleep 30"));
    await new Promise((r) => setTimeout(r, 200));
    stopHelperForTests();
    expect((await call.done).error).toContain("the process spawner exited");
    const { stdout, end } = await execFromHelper("/bin/echo", ["again"]);
    expect([stdout, end.code]).toEqual(["again\n", 0]);
  });
});
