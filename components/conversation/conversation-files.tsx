"use client";
/**
 * The workspace's files beside the conversation: a compact tree and a read-only viewer. Both are
 * read again whenever `version` changes (the page bumps it on every tool result), so a file the
 * agent just wrote shows its new content without a reload.
 */
import { useCallback, useEffect, useState } from "react";
import { MonacoViewer } from "@/components/editor/monaco-viewer";
import type { FileView } from "@/lib/workspaces/read-file";
import type { TreeEntry } from "@/lib/workspaces/tree";

export function ConversationFiles({
  workspaceId,
  initialEntries,
  version,
  open,
  onOpen,
}: {
  workspaceId: string;
  initialEntries: TreeEntry[];
  version: number;
  open: string | null;
  onOpen: (path: string) => void;
}) {
  const [entries, setEntries] = useState(initialEntries);
  const [view, setView] = useState<FileView | { kind: "error"; error: string } | null>(null);

  useEffect(() => {
    if (version === 0) return;
    let live = true;
    void fetch(`/api/workspaces/${workspaceId}/tree`, { cache: "no-store" })
      .then((r) => (r.ok ? r.json() : null))
      .then((body: { entries: TreeEntry[] } | null) => {
        if (live && body) setEntries(body.entries);
      });
    return () => {
      live = false;
    };
  }, [workspaceId, version]);

  const load = useCallback(
    async (filePath: string) => {
      const res = await fetch(`/api/workspaces/${workspaceId}/files?path=${encodeURIComponent(filePath)}`, {
        cache: "no-store",
      });
      const body = await res.json().catch(() => null);
      setView(res.ok ? (body as FileView) : { kind: "error", error: body?.message ?? `HTTP ${res.status}` });
    },
    [workspaceId],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes when the workspace's files change, which must reload the open file.
  useEffect(() => {
    if (open) void load(open);
  }, [open, version, load]);

  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="max-h-[45%] min-h-24 shrink-0 overflow-auto border-b border-border py-1" data-testid="file-tree">
        {entries.length === 0 && <p className="px-3 py-1 text-muted">Empty folder.</p>}
        {entries.map((e) => (
          <button
            key={e.path}
            type="button"
            className={`block w-full truncate py-0.5 pr-2 text-left font-mono text-[12px] hover:bg-panel-2 ${open === e.path ? "bg-accent/20" : ""} ${e.type === "dir" ? "text-muted" : ""}`}
            style={{ paddingLeft: 8 + e.depth * 12 }}
            title={e.path}
            data-testid="tree-entry"
            data-path={e.path}
            data-type={e.type}
            disabled={e.type === "dir"}
            onClick={() => onOpen(e.path)}
          >
            {e.type === "dir" ? `${e.name}/` : e.name}
          </button>
        ))}
      </div>
      <div
        className="flex h-6 shrink-0 items-center border-b border-border px-2 font-mono text-[11px] text-muted"
        data-testid="viewer-path"
      >
        {open ?? "Select a file"}
      </div>
      <div className="min-h-0 flex-1" data-testid="file-viewer">
        <ViewerBody view={view} />
      </div>
    </div>
  );
}

function ViewerBody({ view }: { view: FileView | { kind: "error"; error: string } | null }) {
  if (!view) return <p className="p-3 text-muted">Pick a file to view it.</p>;
  switch (view.kind) {
    case "text":
      return <MonacoViewer path={view.path} content={view.content} />;
    case "binary":
      return <p className="p-3 text-muted">Binary file, not shown.</p>;
    case "too_large":
      return <p className="p-3 text-muted">Too large to show ({view.size} bytes).</p>;
    case "directory":
      return <p className="p-3 text-muted">{view.path} is a folder.</p>;
    case "not_found":
    case "outside":
    case "error":
      return (
        <p className="p-3 text-danger" data-testid="viewer-error">
          {view.error}
        </p>
      );
    default: {
      const never: never = view;
      throw new Error(`unexpected view ${JSON.stringify(never)}`);
    }
  }
}
