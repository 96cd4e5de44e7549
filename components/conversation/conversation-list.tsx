"use client";
/**
 * A workspace's conversations, most recent first, and the button that starts a new one (then
 * opens it). A refusal from the server shows inline.
 */
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { startConversation } from "@/app/(ide)/conversations/actions";

export type ConversationRow = { id: string; title: string; state: string; updatedAt: string };

export function ConversationList({
  workspaceId,
  conversations,
}: {
  workspaceId: string;
  conversations: ConversationRow[];
}) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [error, setError] = useState<string | null>(null);

  return (
    <section className="flex max-h-56 shrink-0 flex-col border-b border-border" data-testid="conversation-list">
      <div className="flex h-8 items-center gap-2 px-3">
        <h2 className="text-xs font-medium uppercase tracking-wide text-muted">Conversations</h2>
        <span className="flex-1" />
        <button
          type="button"
          className="rounded bg-accent px-2 py-0.5 text-xs text-accent-fg disabled:opacity-50"
          data-testid="new-conversation"
          disabled={pending}
          onClick={() =>
            start(async () => {
              const res = await startConversation({ workspaceId });
              if (res.status === "ok") router.push(`/conversations/${res.id}`);
              else
                setError(
                  res.status === "invalid_data" || res.status === "conflict"
                    ? res.error
                    : res.status === "not_found"
                      ? "Workspace not found."
                      : "Sign in again.",
                );
            })
          }
        >
          {pending ? "Starting…" : "New conversation"}
        </button>
      </div>
      {error && (
        <p className="px-3 pb-1 text-xs text-danger" data-testid="conversation-error">
          {error}
        </p>
      )}
      <ul className="overflow-auto pb-1">
        {conversations.length === 0 && <li className="px-3 py-1 text-[12px] text-muted">No conversations yet.</li>}
        {conversations.map((c) => (
          <li key={c.id}>
            <Link
              href={`/conversations/${c.id}`}
              className="flex items-center gap-2 px-3 py-0.5 text-[13px] hover:bg-panel-2"
              data-testid="conversation-row"
              data-conversation-id={c.id}
            >
              <span className="truncate">{c.title}</span>
              <span className="flex-1" />
              <span className="font-mono text-[11px] text-muted">{c.state}</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
