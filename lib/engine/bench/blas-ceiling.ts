/**
 * The machine's native single-precision matrix-product rate, measured in the benchmark's own run
 * so the engine's kernels can be read against it: numpy's matmul (whatever BLAS numpy links, on
 * its default threads) at 512³ and 2048³ through `python3`, the median and best of five timed
 * runs each. Where python3 or numpy is missing the ceiling is reported absent with the reason;
 * nothing is estimated.
 */
import { spawnSync } from "node:child_process";

export type BlasCeiling =
  | {
      available: true;
      source: string;
      /** GFLOP/s (2·n³ per product) by size n. */
      gflops: Record<string, { median: number; best: number }>;
    }
  | { available: false; reason: string };

const PROBE = `
import json, time
import numpy as np
rng = np.random.default_rng(0)
out = {}
for n in SIZES:
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    reps = max(1, int(1e9 // (2 * n ** 3)))
    rates = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        rates.append(2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)
    rates.sort()
    out[str(n)] = {"median": round(rates[2], 1), "best": round(rates[-1], 1)}
print(json.dumps({"numpy": np.__version__, "gflops": out}))
`;

/** Runs the probe (a few seconds); `sizes` are the square product sizes. */
export function measureBlasCeiling(sizes: number[] = [512, 2048], python = "python3"): BlasCeiling {
  const code = PROBE.replace("SIZES", JSON.stringify(sizes));
  const child = spawnSync(python, ["-c", code], { encoding: "utf8", timeout: 120_000 });
  if (child.error) return { available: false, reason: `${python} did not run: ${child.error.message}` };
  if (child.status !== 0) {
    const last = child.stderr.trim().split("\n").pop() ?? "";
    return { available: false, reason: `${python} with numpy failed (exit ${child.status}): ${last}` };
  }
  try {
    const parsed = JSON.parse(child.stdout.trim()) as {
      numpy: string;
      gflops: Record<string, { median: number; best: number }>;
    };
    return { available: true, source: `numpy ${parsed.numpy} matmul, float32`, gflops: parsed.gflops };
  } catch {
    return { available: false, reason: `unexpected output from the probe: ${child.stdout.slice(0, 200)}` };
  }
}
