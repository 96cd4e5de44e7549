"use client";
// Monaco touches `window` when it loads, so it is only ever imported in the browser.
import dynamic from "next/dynamic";

export const MonacoViewer = dynamic(() => import("./monaco-viewer-impl").then((m) => m.MonacoViewerImpl), {
  ssr: false,
  loading: () => <p className="p-4 text-muted">Loading editor…</p>,
});
