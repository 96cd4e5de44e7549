"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { createAccountAction } from "@/app/(ide)/admin/actions";
import { MIN_PASSWORD_LENGTH, PASSWORD_RULE } from "@/lib/auth/password-rule";

export function CreateAccountForm() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    startTransition(async () => {
      const result = await createAccountAction({
        name: form.get("name"),
        email: form.get("email"),
        password: form.get("password"),
      });
      if (result.status === "ok") {
        formEl.reset();
        setMessage({ ok: true, text: `Created ${result.email}.` });
        router.refresh();
      } else {
        setMessage({ ok: false, text: "error" in result ? result.error : `Not allowed (${result.status}).` });
      }
    });
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2" data-testid="create-account-form">
      <label className="flex flex-col gap-1">
        <span className="text-muted">Name</span>
        <input className="input w-40" name="name" required data-testid="new-account-name" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="text-muted">Email</span>
        <input className="input w-56" name="email" type="email" required data-testid="new-account-email" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="text-muted">Initial password</span>
        <input
          className="input w-44"
          name="password"
          type="password"
          minLength={MIN_PASSWORD_LENGTH}
          required
          title={PASSWORD_RULE}
          aria-describedby="new-account-password-rule"
          data-testid="new-account-password"
        />
      </label>
      <button className="btn-primary" type="submit" disabled={pending} data-testid="create-account-submit">
        Create account
      </button>
      <p id="new-account-password-rule" className="w-full text-muted">
        {PASSWORD_RULE}
      </p>
      {message && (
        <p
          className={`w-full ${message.ok ? "text-ok" : "text-danger"}`}
          role="status"
          data-testid="create-account-message"
        >
          {message.text}
        </p>
      )}
    </form>
  );
}
