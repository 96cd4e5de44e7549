import { describe, expect, it } from "vitest";
import { passwordProblem } from "./password-policy";

describe("password policy", () => {
  it("refuses the most common passwords whatever their case, and passwords under 8 characters", () => {
    expect(["password", "12345678", "Password1", "QWERTYUIOP", "iloveyou", "short7!"].map(passwordProblem)).toEqual([
      "common",
      "common",
      "common",
      "common",
      "common",
      "too_short",
    ]);
  });

  it("takes an uncommon password of 8 characters or more, and refuses one over 128", () => {
    expect([
      passwordProblem("correct-horse-battery-staple"),
      passwordProblem("bobs-password"),
      passwordProblem("x".repeat(129)),
    ]).toEqual([null, null, "too_long"]);
  });
});
