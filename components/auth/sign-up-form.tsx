"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { authClient } from "@/lib/auth/client";

/**
 * `open` only decides what is shown: when sign-up is closed the server refuses the request anyway.
 */
export function SignUpForm({ open, firstAccount }: { open: boolean; firstAccount: boolean }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setError(null);
    const { error } = await authClient.signUp.email({
      name: String(form.get("name") ?? ""),
      email: String(form.get("email") ?? ""),
      password: String(form.get("password") ?? ""),
    });
    setPending(false);
    if (error) {
      setError(error.message ?? "Could not sign up.");
      return;
    }
    router.replace("/workspaces");
    router.refresh();
  }

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
    <form onSubmit={onSubmit} className="panel flex flex-col gap-3 p-5" data-testid="sign-up-form">
      <h1 className="text-base font-semibold">Create an account</h1>
      {firstAccount && (
        <p className="rounded border border-accent/40 bg-accent/10 px-2 py-1.5" data-testid="first-account-note">
          This is the first account: it becomes the admin of this instance.
        </p>
      )}
      <label className="flex flex-col gap-1">
        <span className="label">Name</span>
        <input className="input" name="name" autoComplete="name" required data-testid="name-input" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="label">Email</span>
        <input className="input" name="email" type="email" autoComplete="email" required data-testid="email-input" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="label">Password</span>
        <input
          className="input"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          required
          data-testid="password-input"
        />
      </label>
      {error && (
        <p className="text-danger" role="alert" data-testid="auth-error">
          {error}
        </p>
      )}
      <button className="btn-primary justify-center" type="submit" disabled={pending} data-testid="sign-up-submit">
        {pending ? "Creating…" : "Create account"}
      </button>
      <p className="text-muted">
        Have an account?{" "}
        <Link className="text-accent hover:underline" href="/sign-in" data-testid="to-sign-in">
          Sign in
        </Link>
      </p>
    </form>
  );
}
