"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { authClient } from "@/lib/auth/client";

export function SignInForm() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const { error } = await authClient.signIn.email({
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
    });
    setPending(false);
    if (error) {
      setError(error.message ?? "Could not sign in.");
      return;
    }
    router.replace("/workspaces");
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} className="panel flex flex-col gap-3 p-5" data-testid="sign-in-form">
      <h1 className="text-base font-semibold">Sign in</h1>
      <label className="flex flex-col gap-1">
        <span className="label">Email</span>
        <input className="input" name="email" type="email" autoComplete="email" required data-testid="email-input" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="label">Password</span>
        <input className="input" name="password" type="password" autoComplete="current-password" required data-testid="password-input" />
      </label>
      {error && (
        <p className="text-danger" role="alert" data-testid="auth-error">
          {error}
        </p>
      )}
      <button className="btn-primary justify-center" type="submit" disabled={pending} data-testid="sign-in-submit">
        {pending ? "Signing in…" : "Sign in"}
      </button>
      <p className="text-muted">
        No account?{" "}
        <Link className="text-accent hover:underline" href="/sign-up" data-testid="to-sign-up">
          Sign up
        </Link>
      </p>
    </form>
  );
}
