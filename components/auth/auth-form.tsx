"use client";
/**
 * What the sign-in and sign-up forms share: the form's fields are read on submit and sent by
 * `submit`; an error from the server is shown in place, and success goes to the workspaces.
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

type Submit = (fields: Record<string, string>) => Promise<{ error: { message?: string } | null }>;

export function AuthForm({
  title,
  testId,
  submit,
  fallbackError,
  submitLabel,
  pendingLabel,
  submitTestId,
  alternative,
  children,
}: {
  title: string;
  testId: string;
  submit: Submit;
  fallbackError: string;
  submitLabel: string;
  pendingLabel: string;
  submitTestId: string;
  alternative: { prompt: string; href: string; label: string; testId: string };
  children: React.ReactNode;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const fields = Object.fromEntries([...new FormData(event.currentTarget)].map(([k, v]) => [k, String(v)]));
    setPending(true);
    setError(null);
    const { error } = await submit(fields);
    setPending(false);
    if (error) {
      setError(error.message ?? fallbackError);
      return;
    }
    router.replace("/workspaces");
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} className="panel flex flex-col gap-3 p-5" data-testid={testId}>
      <h1 className="text-base font-semibold">{title}</h1>
      {children}
      {error && (
        <p className="text-danger" role="alert" data-testid="auth-error">
          {error}
        </p>
      )}
      <button className="btn-primary justify-center" type="submit" disabled={pending} data-testid={submitTestId}>
        {pending ? pendingLabel : submitLabel}
      </button>
      <p className="text-muted">
        {alternative.prompt}{" "}
        <Link className="text-accent hover:underline" href={alternative.href} data-testid={alternative.testId}>
          {alternative.label}
        </Link>
      </p>
    </form>
  );
}

/** A labelled input; `name` is the key the form's submit receives. */
export function Field({
  label,
  testId,
  ...input
}: { label: string; testId: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label className="flex flex-col gap-1">
      <span className="label">{label}</span>
      <input className="input" required data-testid={testId} {...input} />
    </label>
  );
}
