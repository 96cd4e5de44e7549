/**
 * An admin creating an account for someone else. It goes through better-auth's internal adapter
 * (hash the password, create the user, link a credential account) and creates no session, so the
 * admin stays signed in as themselves; it also works while public sign-up is closed.
 */
import { z } from "zod";
import type { Auth } from "./auth";
import { passwordProblem, passwordProblemMessage } from "./password-policy";

export const createAccountInputSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(100),
  email: z.email("Enter a valid email address").transform((e) => e.toLowerCase()),
  password: z.string().superRefine((password, ctx) => {
    const problem = passwordProblem(password);
    if (problem) ctx.addIssue({ code: "custom", message: passwordProblemMessage(problem) });
  }),
});
export type CreateAccountInput = z.infer<typeof createAccountInputSchema>;

export type CreateAccountResult = { status: "created"; userId: string } | { status: "email_taken" };

export async function createAccount(auth: Auth, input: CreateAccountInput): Promise<CreateAccountResult> {
  const ctx = await auth.$context;
  if (await ctx.internalAdapter.findUserByEmail(input.email)) return { status: "email_taken" };
  const hash = await ctx.password.hash(input.password);
  const created = await ctx.internalAdapter.createUser(
    { email: input.email, name: input.name, emailVerified: false },
    { method: "admin" },
  );
  await ctx.internalAdapter.linkAccount({
    providerId: "credential",
    accountId: created.id,
    userId: created.id,
    password: hash,
  });
  return { status: "created", userId: created.id };
}
