"use client";
// Monaco touches `window` when it loads, so the diff and JSON editors are only imported in the browser.
import dynamic from "next/dynamic";

export const DiffEditor = dynamic(() => import("./diff-editor-impl").then((m) => m.DiffEditorImpl), {
  ssr: false,
  loading: () => <p className="p-2 text-muted">Loading diff…</p>,
});

export const JsonEditor = dynamic(() => import("./json-editor-impl").then((m) => m.JsonEditorImpl), {
  ssr: false,
  loading: () => <p className="p-2 text-muted">Loading editor…</p>,
});
