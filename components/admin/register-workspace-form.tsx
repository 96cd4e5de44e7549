"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { registerWorkspace } from "@/app/(ide)/actions";

export function RegisterWorkspaceForm() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    startTransition(async () => {
      const result = await registerWorkspace({ name: form.get("name"), path: form.get("path") });
      if (result.status === "ok") router.push(`/workspaces/${result.id}`);
      else setError("error" in result ? result.error : `Not allowed (${result.status}).`);
    });
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2" data-testid="register-workspace-form">
      <label className="flex flex-col gap-1">
        <span className="text-muted">Name</span>
        <input className="input w-40" name="name" required data-testid="register-name" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="text-muted">Absolute path on the server</span>
        <input
          className="input w-80 font-mono"
          name="path"
          required
          placeholder="/srv/projects/app"
          data-testid="register-path"
        />
      </label>
      <button className="btn" type="submit" disabled={pending} data-testid="register-submit">
        Register
      </button>
      {error && (
        <p className="w-full text-danger" role="alert" data-testid="register-error">
          {error}
        </p>
      )}
    </form>
  );
}
