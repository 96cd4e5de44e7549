import { describe, expect, it } from "vitest";
import type { AdapterVersionEvent } from "@/lib/db/schema";
import { versionsToKeep } from "./adapter-retention";

const trained = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ number: i + 1, event: "trained" as AdapterVersionEvent }));

describe("which versions keep their weights", () => {
  it.each([
    {
      what: "the newest N alone when --save-every is 0",
      versions: trained(6),
      saveEvery: 0,
      keepVersions: 3,
      kept: [4, 5, 6],
    },
    {
      what: "every --save-every-th trained version besides the newest N",
      versions: trained(9),
      saveEvery: 4,
      keepVersions: 2,
      kept: [4, 8, 9],
    },
    {
      what: "everything while there are no more than N",
      versions: trained(2),
      saveEvery: 0,
      keepVersions: 5,
      kept: [1, 2],
    },
    {
      what: "at least the newest (the current weights) even with N below 1",
      versions: trained(3),
      saveEvery: 0,
      keepVersions: 0,
      kept: [3],
    },
  ])("keeps $what", ({ versions, saveEvery, keepVersions, kept }) => {
    expect([...versionsToKeep(versions, { saveEvery, keepVersions })].sort((a, b) => a - b)).toEqual(kept);
  });

  it("does not count an undo, restore or reset as a --save-every version", () => {
    const versions = [
      ...trained(3),
      { number: 4, event: "undo" as const },
      { number: 5, event: "trained" as const },
      { number: 6, event: "reset" as const },
    ];
    expect([...versionsToKeep(versions, { saveEvery: 2, keepVersions: 1 })].sort()).toEqual([2, 6]);
  });
});
