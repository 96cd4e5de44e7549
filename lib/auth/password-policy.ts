/**
 * The password rule for every way an account gets or changes a password (sign-up, an admin
 * creating an account, a password change or reset): at least 8 characters, at most 128, and not
 * one of the 5,000 most common passwords, compared without regard to case ("Password1" is as
 * guessable as "password1"). Length plus a list of known passwords is the rule NIST SP 800-63B
 * asks for; composition rules ("a digit and a symbol") are not, as they push people to "Passw0rd!".
 */
import { COMMON_PASSWORDS_TEXT } from "./common-passwords";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password-rule";

export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };

export type PasswordProblem = "too_short" | "too_long" | "common";

const COMMON = new Set(COMMON_PASSWORDS_TEXT.split("\n").filter(Boolean));

export function passwordProblem(password: string): PasswordProblem | null {
  if (password.length < MIN_PASSWORD_LENGTH) return "too_short";
  if (password.length > MAX_PASSWORD_LENGTH) return "too_long";
  if (COMMON.has(password.toLowerCase())) return "common";
  return null;
}

export function passwordProblemMessage(problem: PasswordProblem): string {
  switch (problem) {
    case "too_short":
      return `Use at least ${MIN_PASSWORD_LENGTH} characters for the password.`;
    case "too_long":
      return `Use at most ${MAX_PASSWORD_LENGTH} characters for the password.`;
    case "common":
      return "That password is one of the most commonly used ones, which are tried first. Choose another.";
    default: {
      const unreachable: never = problem;
      throw new Error(`unknown password problem ${String(unreachable)}`);
    }
  }
}
