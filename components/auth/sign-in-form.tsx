"use client";
import { authClient } from "@/lib/auth/client";
import { AuthForm, Field } from "./auth-form";

export function SignInForm() {
  return (
    <AuthForm
      title="Sign in"
      testId="sign-in-form"
      submit={(f) => authClient.signIn.email({ email: f.email ?? "", password: f.password ?? "" })}
      fallbackError="Could not sign in."
      submitLabel="Sign in"
      pendingLabel="Signing in…"
      submitTestId="sign-in-submit"
      alternative={{ prompt: "No account?", href: "/sign-up", label: "Sign up", testId: "to-sign-up" }}
    >
      <Field label="Email" name="email" type="email" autoComplete="email" testId="email-input" />
      <Field label="Password" name="password" type="password" autoComplete="current-password" testId="password-input" />
    </AuthForm>
  );
}
