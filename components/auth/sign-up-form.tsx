"use client";
import Link from "next/link";
import { authClient } from "@/lib/auth/client";
import { MIN_PASSWORD_LENGTH, PASSWORD_RULE } from "@/lib/auth/password-rule";
import { AuthForm, Field } from "./auth-form";

/**
 * `open` only decides what is shown: when sign-up is closed the server refuses the request anyway.
 */
export function SignUpForm({ open, firstAccount }: { open: boolean; firstAccount: boolean }) {
  if (!open) {
    return (
      <div className="panel flex flex-col gap-3 p-5" data-testid="signup-closed">
        <h1 className="text-base font-semibold">Sign-up is closed</h1>
        <p className="text-muted">Ask an admin of this instance to create an account for you.</p>
        <Link className="text-accent hover:underline" href="/sign-in">
          Sign in
        </Link>
      </div>
    );
  }

  return (
    <AuthForm
      title="Create an account"
      testId="sign-up-form"
      submit={(f) => authClient.signUp.email({ name: f.name ?? "", email: f.email ?? "", password: f.password ?? "" })}
      fallbackError="Could not sign up."
      submitLabel="Create account"
      pendingLabel="Creating…"
      submitTestId="sign-up-submit"
      alternative={{ prompt: "Have an account?", href: "/sign-in", label: "Sign in", testId: "to-sign-in" }}
    >
      {firstAccount && (
        <p className="rounded border border-accent/40 bg-accent/10 px-2 py-1.5" data-testid="first-account-note">
          This is the first account: it becomes the admin of this instance.
        </p>
      )}
      <Field label="Name" name="name" autoComplete="name" testId="name-input" />
      <Field label="Email" name="email" type="email" autoComplete="email" testId="email-input" />
      <Field
        label="Password"
        name="password"
        type="password"
        autoComplete="new-password"
        minLength={MIN_PASSWORD_LENGTH}
        testId="password-input"
        aria-describedby="password-rule"
      />
      <p id="password-rule" className="text-muted" data-testid="password-rule">
        {PASSWORD_RULE}
      </p>
    </AuthForm>
  );
}
