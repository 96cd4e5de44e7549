"use client";
/**
 * The workspace's file tree next to a read-only viewer. Folders fold; clicking a file fetches it
 * from the files route (which enforces ownership and the workspace boundary) and shows text in
 * Monaco, or a note for binary and oversized files.
 */
import { useMemo, useState } from "react";
import type { FileView } from "@/lib/workspaces/read-file";
import type { TreeEntry } from "@/lib/workspaces/tree";
import { MonacoViewer } from "@/components/editor/monaco-viewer";

type Loaded =
  | { status: "idle" }
  | { status: "loading"; path: string }
  | { status: "loaded"; view: FileView }
  | { status: "error"; path: string; error: string };

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function FileExplorer({
  workspaceId,
  entries,
  truncated,
}: {
  workspaceId: string;
  entries: TreeEntry[];
  truncated: boolean;
}) {
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<string | null>(null);
  const [loaded, setLoaded] = useState<Loaded>({ status: "idle" });

  // An entry is visible when none of its ancestor folders is collapsed.
  const visible = useMemo(
    () =>
      entries.filter((e) => {
        const parts = e.path.split("/");
        for (let i = 1; i < parts.length; i++) if (collapsed.has(parts.slice(0, i).join("/"))) return false;
        return true;
      }),
    [entries, collapsed],
  );

  async function open(filePath: string) {
    setSelected(filePath);
    setLoaded({ status: "loading", path: filePath });
    const res = await fetch(`/api/workspaces/${workspaceId}/files?path=${encodeURIComponent(filePath)}`);
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      setLoaded({ status: "error", path: filePath, error: body?.message ?? `HTTP ${res.status}` });
      return;
    }
    setLoaded({ status: "loaded", view: body as FileView });
  }

  function toggle(dir: string) {
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(dir)) next.delete(dir);
      else next.add(dir);
      return next;
    });
  }

  return (
    <div className="flex h-full min-h-0">
      <aside className="w-64 shrink-0 overflow-auto border-r border-border bg-panel py-1" data-testid="file-tree">
        {entries.length === 0 && <p className="px-3 py-2 text-muted">Empty folder.</p>}
        {visible.map((e) => (
          <button
            key={e.path}
            type="button"
            className={`flex w-full items-center gap-1 truncate py-0.5 pr-2 text-left font-mono text-[12px] hover:bg-panel-2 ${
              selected === e.path ? "bg-accent/20 text-fg" : "text-fg/90"
            }`}
            style={{ paddingLeft: 8 + e.depth * 12 }}
            title={e.path}
            data-testid="tree-entry"
            data-path={e.path}
            data-type={e.type}
            onClick={() => (e.type === "dir" ? toggle(e.path) : open(e.path))}
          >
            <span className="w-3 text-muted">
              {e.type === "dir" ? (collapsed.has(e.path) ? "▸" : "▾") : e.type === "symlink" ? "↪" : ""}
            </span>
            {e.name}
          </button>
        ))}
        {truncated && (
          <p className="px-3 py-2 text-warn" data-testid="tree-truncated">
            Too many files: the listing stops here.
          </p>
        )}
      </aside>
      <section className="flex min-w-0 flex-1 flex-col">
        <div
          className="flex h-7 shrink-0 items-center border-b border-border px-3 font-mono text-xs text-muted"
          data-testid="viewer-path"
        >
          {selected ?? "Select a file"}
        </div>
        <div className="min-h-0 flex-1" data-testid="file-viewer">
          <ViewerBody loaded={loaded} />
        </div>
      </section>
    </div>
  );
}

function ViewerBody({ loaded }: { loaded: Loaded }) {
  switch (loaded.status) {
    case "idle":
      return <p className="p-4 text-muted">Pick a file in the tree to view it.</p>;
    case "loading":
      return <p className="p-4 text-muted">Loading {loaded.path}…</p>;
    case "error":
      return (
        <p className="p-4 text-danger" data-testid="viewer-error">
          {loaded.error}
        </p>
      );
    case "loaded":
      return <FileViewBody view={loaded.view} />;
    default: {
      const unreachable: never = loaded;
      throw new Error(`unexpected state ${JSON.stringify(unreachable)}`);
    }
  }
}

function FileViewBody({ view }: { view: FileView }) {
  switch (view.kind) {
    case "text":
      return <MonacoViewer path={view.path} content={view.content} />;
    case "binary":
      return (
        <p className="p-4 text-muted" data-testid="viewer-binary">
          Binary file ({formatBytes(view.size)}), not shown.
        </p>
      );
    case "too_large":
      return (
        <p className="p-4 text-muted" data-testid="viewer-too-large">
          {formatBytes(view.size)} is larger than the viewer&apos;s limit of {formatBytes(view.limit)}.
        </p>
      );
    case "directory":
      return <p className="p-4 text-muted">{view.path} is a folder.</p>;
    case "not_found":
    case "outside":
      return (
        <p className="p-4 text-danger" data-testid="viewer-error">
          {view.error}
        </p>
      );
    default: {
      const unreachable: never = view;
      throw new Error(`unexpected view ${JSON.stringify(unreachable)}`);
    }
  }
}
