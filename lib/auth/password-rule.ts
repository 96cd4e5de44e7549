/**
 * The password rule in words and lengths, for the forms that set a password (browser code: the
 * list of common passwords stays on the server, in password-policy.ts).
 */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 128;

/** Shown beside every new-password field, so the rule is known before it refuses anything. */
export const PASSWORD_RULE = `At least ${MIN_PASSWORD_LENGTH} characters, and not a common password.`;
