"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { createWorkspace } from "@/app/(ide)/actions";

export function CreateWorkspaceForm({ examples }: { examples: string[] }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const example = String(form.get("example") ?? "");
    startTransition(async () => {
      const result = await createWorkspace({ name: form.get("name"), example: example === "" ? null : example });
      switch (result.status) {
        case "ok":
          setError(null);
          router.push(`/workspaces/${result.id}`);
          return;
        case "invalid_data":
        case "conflict":
          setError(result.error);
          return;
        case "unauthorized":
          router.replace("/sign-in");
          return;
        case "not_found":
        case "forbidden":
          setError("Could not create the workspace.");
          return;
        default: {
          const unreachable: never = result;
          throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
        }
      }
    });
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-2" data-testid="create-workspace-form">
      <label className="flex flex-col gap-1">
        <span className="text-muted">Name</span>
        <input className="input w-64" name="name" required maxLength={80} data-testid="workspace-name-input" />
      </label>
      <label className="flex flex-col gap-1">
        <span className="text-muted">Start from</span>
        <select
          className="input"
          name="example"
          defaultValue={examples[0] ?? ""}
          data-testid="workspace-example-select"
        >
          {examples.map((e) => (
            <option key={e} value={e}>
              example: {e}
            </option>
          ))}
          <option value="">empty folder</option>
        </select>
      </label>
      <button className="btn-primary" type="submit" disabled={pending} data-testid="create-workspace-submit">
        {pending ? "Creating…" : "Create"}
      </button>
      {error && (
        <p className="w-full text-danger" role="alert" data-testid="create-workspace-error">
          {error}
        </p>
      )}
    </form>
  );
}
