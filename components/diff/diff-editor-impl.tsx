"use client";
/**
 * Monaco's side-by-side diff of a file as it is (left) and as the proposed call would leave it
 * (right), from the bundled Monaco (see monaco-setup). In edit mode the right side is writable
 * and every change is reported, so approving sends exactly the text shown.
 * The two text models are detached from the diff editor before they are disposed: the wrapper
 * disposes them while the editor still shows them, which Monaco reports as an uncaught "TextModel
 * got disposed before DiffEditorWidget model got reset" each time a decided card's diff unmounts.
 */
import { DiffEditor } from "@monaco-editor/react";
import type { editor } from "monaco-editor/editor/editor.api";
import { useEffect, useRef } from "react";
import { languageForPath } from "@/lib/workspaces/language";
import "@/components/editor/monaco-setup";

export type DiffEditorProps = {
  path: string;
  before: string;
  after: string;
  editable: boolean;
  onChange?: (text: string) => void;
};

export function DiffEditorImpl({ path, before, after, editable, onChange }: DiffEditorProps) {
  const subscription = useRef<{ dispose(): void } | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  const diffRef = useRef<editor.IStandaloneDiffEditor | null>(null);

  useEffect(() => {
    diffRef.current?.getModifiedEditor().updateOptions({ readOnly: !editable, domReadOnly: !editable });
    if (editable) diffRef.current?.getModifiedEditor().focus();
  }, [editable]);

  // On unmount (before the wrapper's own cleanup, which disposes the editor): detach the models,
  // then dispose them, so the diff editor never holds a disposed model. A later card for the same
  // path then gets fresh models with its own text (models are shared by path).
  useEffect(
    () => () => {
      subscription.current?.dispose();
      const diff = diffRef.current;
      const models = diff?.getModel();
      diff?.setModel(null);
      models?.original.dispose();
      models?.modified.dispose();
    },
    [],
  );

  return (
    <div className="h-full" data-testid="diff-editor" data-editable={editable ? "true" : "false"}>
      <DiffEditor
        original={before}
        modified={after}
        language={languageForPath(path)}
        originalModelPath={`before/${path}`}
        modifiedModelPath={`after/${path}`}
        // Kept from the wrapper's own unmount, which disposes models before the editor using them.
        keepCurrentOriginalModel
        keepCurrentModifiedModel
        theme="vs-dark"
        height="100%"
        onMount={(diff) => {
          diffRef.current = diff;
          const modified = diff.getModifiedEditor();
          modified.updateOptions({ readOnly: !editable, domReadOnly: !editable });
          subscription.current = modified.onDidChangeModelContent(() => changed.current?.(modified.getValue()));
        }}
        options={{
          readOnly: !editable,
          originalEditable: false,
          renderSideBySide: true,
          minimap: { enabled: false },
          fontSize: 12,
          scrollBeyondLastLine: false,
          automaticLayout: true,
          renderOverviewRuler: false,
        }}
      />
    </div>
  );
}
