"use client";
/**
 * One workspace in the list, with inline rename and a two-step delete. The id travels in a hidden
 * form field read at submit time (not a closure), so the action receives whatever the form holds:
 * the server, not this component, decides whether the id is the user's.
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { deleteWorkspace, renameWorkspace, type ActionResult } from "@/app/(ide)/actions";

function describe(result: Exclude<ActionResult, { status: "ok" }>): string {
  switch (result.status) {
    case "not_found":
      return "Workspace not found.";
    case "unauthorized":
      return "Your session has ended; sign in again.";
    case "forbidden":
      return "Not allowed.";
    case "invalid_data":
    case "conflict":
      return result.error;
    default: {
      const unreachable: never = result;
      throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
    }
  }
}

export function WorkspaceRow({
  id,
  name,
  path,
  managed,
}: {
  id: string;
  name: string;
  path: string;
  managed: boolean;
}) {
  const router = useRouter();
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function run(action: () => Promise<ActionResult>) {
    startTransition(async () => {
      const result = await action();
      if (result.status === "ok") {
        setError(null);
        setMode("view");
        router.refresh();
      } else {
        setError(describe(result));
      }
    });
  }

  function onRename(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    run(() => renameWorkspace({ id: form.get("id"), name: form.get("name") }));
  }

  function onDelete(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    run(() => deleteWorkspace({ id: form.get("id") }));
  }

  return (
    <li
      className="flex flex-col gap-1 px-3 py-2"
      data-testid="workspace-row"
      data-workspace-id={id}
      data-workspace-name={name}
    >
      <div className="flex items-center gap-3">
        {mode === "rename" ? (
          <form onSubmit={onRename} className="flex items-center gap-2" data-testid="rename-form">
            <input type="hidden" name="id" value={id} data-testid="rename-id" />
            <input
              className="input w-56"
              name="name"
              defaultValue={name}
              // biome-ignore lint/a11y/noAutofocus: the field appears because the user just clicked Rename; focus follows the click.
              autoFocus
              required
              data-testid="rename-input"
            />
            <button className="btn-primary" type="submit" disabled={pending} data-testid="rename-submit">
              Save
            </button>
            <button className="btn" type="button" onClick={() => setMode("view")}>
              Cancel
            </button>
          </form>
        ) : (
          <Link
            href={`/workspaces/${id}`}
            className="font-medium text-accent hover:underline"
            data-testid="workspace-link"
          >
            {name}
          </Link>
        )}
        <span className="truncate font-mono text-xs text-muted" title={path}>
          {managed ? "managed" : path}
        </span>
        <div className="ml-auto flex items-center gap-2">
          {mode === "view" && (
            <>
              <button type="button" className="btn" onClick={() => setMode("rename")} data-testid="rename-button">
                Rename
              </button>
              <button
                type="button"
                className="btn-danger"
                onClick={() => setMode("confirm-delete")}
                data-testid="delete-button"
              >
                Delete
              </button>
            </>
          )}
          {mode === "confirm-delete" && (
            <form onSubmit={onDelete} className="flex items-center gap-2" data-testid="delete-form">
              <input type="hidden" name="id" value={id} data-testid="delete-id" />
              <span className="text-muted">{managed ? "Delete it and its files?" : "Remove it (files stay)?"}</span>
              <button className="btn-danger" type="submit" disabled={pending} data-testid="delete-confirm">
                Delete
              </button>
              <button className="btn" type="button" onClick={() => setMode("view")}>
                Cancel
              </button>
            </form>
          )}
        </div>
      </div>
      {error && (
        <p className="text-danger" role="alert" data-testid="workspace-action-error">
          {error}
        </p>
      )}
    </li>
  );
}
