"use client";
/** A small Monaco JSON editor for a tool call's arguments (edit mode of cards without a file diff). */
import Editor from "@monaco-editor/react";
import "@/components/editor/monaco-setup";

export function JsonEditorImpl({ value, onChange }: { value: string; onChange: (text: string) => void }) {
  return (
    <div className="h-full" data-testid="args-editor">
      <Editor
        value={value}
        language="json"
        path="tool-args.json"
        theme="vs-dark"
        height="100%"
        onMount={(ed) => ed.focus()}
        onChange={(text) => onChange(text ?? "")}
        options={{
          minimap: { enabled: false },
          fontSize: 12,
          scrollBeyondLastLine: false,
          automaticLayout: true,
          lineNumbers: "off",
        }}
      />
    </div>
  );
}
