"use client";
import Editor from "@monaco-editor/react";
import { languageForPath } from "@/lib/workspaces/language";
import "./monaco-setup";

export function MonacoViewerImpl({ path, content }: { path: string; content: string }) {
  return (
    <div className="h-full" data-testid="monaco-viewer" data-language={languageForPath(path)}>
      <Editor
        path={path}
        value={content}
        language={languageForPath(path)}
        theme="vs-dark"
        height="100%"
        options={{
          readOnly: true,
          domReadOnly: true,
          minimap: { enabled: false },
          fontSize: 13,
          scrollBeyondLastLine: false,
          renderLineHighlight: "none",
          automaticLayout: true,
        }}
      />
    </div>
  );
}
