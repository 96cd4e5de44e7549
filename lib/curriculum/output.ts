/**
 * Test runners print timings ("Ran 4 tests in 0.002s", TAP's "duration_ms: 0.96"), which would
 * make every generated dataset differ. Those numbers, and only those, are replaced with fixed
 * values; everything else in a transcript is the tool's output exactly as the agent sees it.
 */

export function stabiliseOutput(text: string): string {
  return text
    .replace(/^(Ran \d+ tests? in )\d+\.\d+s$/gm, "$10.001s")
    .replace(/^(\s*duration_ms: )\d+(\.\d+)?$/gm, "$10.5")
    .replace(/^(# duration_ms )\d+(\.\d+)?$/gm, "$1100");
}
