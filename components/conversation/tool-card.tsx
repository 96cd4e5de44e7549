"use client";
/**
 * One tool call as a card. A call awaiting a decision shows what approving does (a Monaco diff
 * of the real file for write/edit/edit_lines, the command and working directory for bash, the
 * arguments otherwise) with Approve (y, optionally "always allow"), Deny (n, a required
 * correction) and Edit (e: the diff's right side and a write's path, or the arguments as JSON,
 * become editable; p then moves to a write's path). A diff of several hunks lists them, each accepted or rejected on its own.
 * Keys are handled here, for the one active card, and never while the person is typing; Esc in
 * the editor moves to "Approve edited".
 * A failed call asks for its correction with the tool's hint prefilled. Decided calls show their
 * outcome, the correction and the result.
 */
import { useEffect, useRef, useState } from "react";
import { DiffEditor, JsonEditor } from "@/components/diff/diff-editor";
import type { RememberRule } from "@/lib/agent/schemas";
import type { Correction, ToolCall } from "@/lib/db/schema";
import type { SessionDecision } from "@/lib/conversation-page/action-schemas";
import { decisionKeyFor, isTypingTarget } from "@/lib/conversation-page/keys";
import { callSummary, defaultRulePattern } from "@/lib/conversation-page/summary";
import type { CallPreview } from "@/lib/conversation-page/tool-preview";
import { CorrectionBox } from "./correction-box";
import { HunkList } from "./hunk-list";

export type Pending =
  | { kind: "decision"; preview: CallPreview | null }
  | { kind: "failure"; suggestion: string }
  | null;

type Mode = "idle" | "deny" | "edit";
type RememberChoice = "none" | "tool" | "path" | "bash_prefix";

const STATUS_STYLE: Record<string, string> = {
  proposed: "text-warn",
  approved: "text-ok",
  auto_approved: "text-ok",
  edited: "text-accent",
  executing: "text-accent",
  succeeded: "text-ok",
  observed: "text-warn",
  denied: "text-danger",
  failed: "text-danger",
  interrupted: "text-danger",
};

export function ToolCard({
  call,
  corrections,
  pending,
  busy,
  error,
  onDecide,
  onFailureCorrection,
}: {
  call: ToolCall;
  corrections: Correction[];
  pending: Pending;
  busy: boolean;
  error: string | null;
  onDecide: (decision: SessionDecision) => void;
  onFailureCorrection: (text: string) => void;
}) {
  const [mode, setMode] = useState<Mode>("idle");
  const [remember, setRemember] = useState<RememberChoice>("none");
  const suggested = defaultRulePattern(call.name, call.args);
  const [pattern, setPattern] = useState(suggested?.pattern ?? "");
  const preview = pending?.kind === "decision" ? pending.preview : null;
  const [editedText, setEditedText] = useState(preview?.kind === "diff" ? preview.after : "");
  // A write's path is editable with its content; edit and edit_lines change the file their diff shows.
  const [editedPath, setEditedPath] = useState(preview?.kind === "diff" ? preview.path : "");
  const pathEditable = preview?.kind === "diff" && preview.tool === "write";
  const [editedJson, setEditedJson] = useState(() => JSON.stringify(call.args, null, 2));
  const [localError, setLocalError] = useState<string | null>(null);
  const deciding = pending?.kind === "decision";
  const approveButton = useRef<HTMLButtonElement>(null);
  const pathInput = useRef<HTMLInputElement>(null);

  function approve() {
    if (busy) return;
    setLocalError(null);
    if (mode === "edit") {
      if (preview?.kind === "diff") {
        const path = editedPath.trim();
        if (path === "") {
          setLocalError("The path is empty.");
          return;
        }
        const moved = path !== preview.path;
        if (!moved && editedText === preview.after) onDecide({ kind: "approve" });
        else onDecide(moved ? { kind: "edit_text", text: editedText, path } : { kind: "edit_text", text: editedText });
        return;
      }
      let args: unknown;
      try {
        args = JSON.parse(editedJson);
      } catch (e) {
        setLocalError(`The arguments are not valid JSON: ${(e as Error).message}`);
        return;
      }
      if (!args || typeof args !== "object" || Array.isArray(args)) {
        setLocalError("The arguments must be a JSON object.");
        return;
      }
      onDecide({ kind: "edit_args", args: args as Record<string, unknown> });
      return;
    }
    const rule: RememberRule | undefined =
      remember === "none"
        ? undefined
        : remember === "tool"
          ? { kind: "tool" }
          : { kind: remember, pattern: pattern.trim() };
    if (rule && rule.kind !== "tool" && rule.pattern === "") {
      setLocalError("An always-allow rule needs a pattern.");
      return;
    }
    onDecide(rule ? { kind: "approve", remember: rule } : { kind: "approve" });
  }

  useEffect(() => {
    if (!deciding) return;
    const onKey = (event: KeyboardEvent) => {
      const key = decisionKeyFor({
        key: event.key,
        ctrlKey: event.ctrlKey,
        metaKey: event.metaKey,
        altKey: event.altKey,
        repeat: event.repeat,
        isComposing: event.isComposing,
        target: event.target as HTMLElement | null,
      });
      // In edit mode, p moves to a write's path (Esc there returns to "Approve edited").
      if (
        !key &&
        mode === "edit" &&
        pathEditable &&
        event.key === "p" &&
        !event.ctrlKey &&
        !event.metaKey &&
        !event.altKey &&
        !isTypingTarget(event.target as HTMLElement | null)
      ) {
        event.preventDefault();
        pathInput.current?.focus();
        pathInput.current?.select();
        return;
      }
      if (!key) return;
      event.preventDefault();
      if (key === "approve") approve();
      else if (key === "deny") setMode("deny");
      else setMode("edit");
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const shownArgs = call.editedArgs ?? call.args;
  const correction = corrections.at(-1);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the card only catches Esc bubbling up from its editor; its controls are the buttons inside.
    <div
      className={`my-2 rounded border bg-panel ${deciding ? "border-warn/70" : pending?.kind === "failure" ? "border-danger/70" : "border-border"}`}
      data-testid={pending?.kind === "failure" ? "failure-card" : "tool-card"}
      data-tool={call.name}
      data-status={call.status}
      data-tool-call-id={call.id}
      onKeyDown={(event) => {
        // Esc leaves the editor for "Approve edited", so y (or Enter) decides without the mouse.
        if (mode === "edit" && event.key === "Escape") approveButton.current?.focus();
      }}
    >
      <div className="flex items-center gap-2 border-b border-border px-2 py-1">
        <span className="text-accent">●</span>
        <span className="font-mono text-[12px]">
          {call.name}({callSummary(call.name, shownArgs)})
        </span>
        <span className="flex-1" />
        <span className={`text-[11px] ${STATUS_STYLE[call.status] ?? "text-muted"}`} data-testid="tool-status">
          {call.status.replace("_", " ")}
          {call.autoReason ? ` (${call.autoReason})` : ""}
        </span>
      </div>
      <div className="px-2 py-1">
        {deciding ? (
          <PreviewBody
            call={call}
            preview={preview}
            editing={mode === "edit"}
            editedJson={editedJson}
            onEditText={setEditedText}
            onEditJson={setEditedJson}
            path={pathEditable ? { value: editedPath, onChange: setEditedPath, ref: pathInput } : null}
          />
        ) : (
          <pre
            className="max-h-24 overflow-auto whitespace-pre-wrap break-all font-mono text-[11px] text-muted"
            data-testid="tool-args"
          >
            {JSON.stringify(shownArgs, null, 1)}
          </pre>
        )}
        {deciding && mode === "idle" && preview?.kind === "diff" && (
          <HunkList
            before={preview.before}
            after={preview.after}
            busy={busy}
            onApply={(hunks) => onDecide({ kind: "review_hunks", hunks })}
          />
        )}
        {call.editedArgs && <p className="text-[11px] text-accent">Ran with the person's edited arguments.</p>}
        {call.review && call.review.rejected.length > 0 && (
          <div className="mt-1 text-[11px]" data-testid="rejected-hunks">
            <p className="text-danger">
              Rejected {call.review.rejected.length} of {call.review.hunks} hunks:
            </p>
            {call.review.rejected.map((r) => (
              <pre
                key={r.number}
                className="whitespace-pre-wrap break-all font-mono text-muted"
                data-testid="rejected-hunk"
                data-hunk={r.number}
              >
                hunk {r.number}
                {r.correction ? ` (${r.correction})` : ""}
                {"\n"}
                {r.diff}
              </pre>
            ))}
          </div>
        )}
        {correction && (
          <p className="mt-1 text-[12px]" data-testid="tool-correction">
            <span className="text-danger">correction ({correction.kind}):</span> {correction.text}
          </p>
        )}
        {call.result && (
          <details className="mt-1" open={!call.result.success}>
            <summary
              className={`cursor-pointer text-[11px] ${call.result.success ? "text-ok" : "text-danger"}`}
              data-testid="tool-result"
            >
              {call.result.success ? "✓" : "✗"} {call.result.output.split("\n")[0]?.slice(0, 80)}
              {call.result.output.split("\n").length > 1 ? ` +${call.result.output.split("\n").length - 1} lines` : ""}
            </summary>
            <pre className="max-h-48 overflow-auto whitespace-pre-wrap break-all font-mono text-[11px] text-fg/80">
              {call.result.output}
            </pre>
          </details>
        )}
      </div>

      {deciding && mode !== "deny" && (
        <div className="flex flex-wrap items-center gap-2 border-t border-border px-2 py-1">
          <button
            ref={approveButton}
            type="button"
            className="rounded bg-ok px-2 py-0.5 text-xs text-black disabled:opacity-50"
            data-testid="approve-button"
            disabled={busy}
            onClick={approve}
          >
            {mode === "edit" ? "Approve edited" : "Approve"} <kbd className="opacity-70">y</kbd>
          </button>
          <button
            type="button"
            className="rounded bg-danger px-2 py-0.5 text-xs text-white disabled:opacity-50"
            data-testid="deny-button"
            disabled={busy}
            onClick={() => setMode("deny")}
          >
            Deny <kbd className="opacity-70">n</kbd>
          </button>
          <button
            type="button"
            className="rounded border border-border px-2 py-0.5 text-xs disabled:opacity-50"
            data-testid="edit-button"
            disabled={busy}
            onClick={() => setMode(mode === "edit" ? "idle" : "edit")}
          >
            {mode === "edit" ? "Stop editing" : "Edit"} <kbd className="opacity-70">e</kbd>
          </button>
          {mode !== "edit" && (
            <label className="flex items-center gap-1 text-[11px] text-muted">
              always allow
              <select
                className="rounded border border-border bg-bg px-1 py-0.5 text-[11px]"
                data-testid="remember-select"
                value={remember}
                onChange={(e) => setRemember(e.target.value as RememberChoice)}
              >
                <option value="none">no</option>
                <option value="tool">all {call.name} calls</option>
                {call.name !== "bash" && <option value="path">{call.name} on path pattern</option>}
                {call.name === "bash" && <option value="bash_prefix">commands starting with</option>}
              </select>
              {(remember === "path" || remember === "bash_prefix") && (
                <input
                  className="w-40 rounded border border-border bg-bg px-1 py-0.5 font-mono text-[11px]"
                  data-testid="remember-pattern"
                  value={pattern}
                  onChange={(e) => setPattern(e.target.value)}
                />
              )}
            </label>
          )}
          {mode === "edit" && (
            <span className="text-[11px] text-muted" data-testid="edit-note">
              {preview?.kind !== "diff"
                ? "Approving runs exactly these arguments."
                : editedPath.trim() !== preview.path
                  ? `Approving writes exactly the right side to ${editedPath.trim()} (not the file on the left: whatever is there is replaced).`
                  : `Approving writes exactly the right side: it becomes ${preview.tool} arguments that reproduce it.`}
            </span>
          )}
        </div>
      )}
      {deciding && mode === "deny" && (
        <div className="px-2 pb-2">
          <CorrectionBox
            label="Why deny? The correction trains the agent and is shown to it."
            submitLabel="Deny"
            busy={busy}
            error={error}
            onSubmit={(text) => onDecide({ kind: "deny", correction: text })}
            onCancel={() => setMode("idle")}
          />
        </div>
      )}
      {pending?.kind === "failure" && (
        <div className="px-2 pb-2">
          <CorrectionBox
            initial={pending.suggestion}
            label="The tool failed. Correction (required; the tool's hint is prefilled):"
            submitLabel="Send correction"
            busy={busy}
            error={error}
            onSubmit={onFailureCorrection}
          />
        </div>
      )}
      {(localError || (error && mode !== "deny" && pending?.kind !== "failure")) && (
        <p className="px-2 pb-1 text-xs text-danger" data-testid="decision-error">
          {localError ?? error}
        </p>
      )}
    </div>
  );
}

function PreviewBody({
  call,
  preview,
  editing,
  editedJson,
  onEditText,
  onEditJson,
  path,
}: {
  call: ToolCall;
  preview: CallPreview | null;
  editing: boolean;
  editedJson: string;
  onEditText: (text: string) => void;
  onEditJson: (text: string) => void;
  /** The write's path, editable while editing (null for tools whose path stays). */
  path: { value: string; onChange: (path: string) => void; ref: React.RefObject<HTMLInputElement | null> } | null;
}) {
  if (editing && preview?.kind !== "diff") {
    return (
      <div className="h-40 rounded border border-accent/60">
        <JsonEditor value={editedJson} onChange={onEditJson} />
      </div>
    );
  }
  switch (preview?.kind) {
    case "diff":
      return (
        <div>
          {editing && path ? (
            <label className="mb-1 flex items-center gap-1 text-[11px] text-muted">
              path
              <input
                ref={path.ref}
                className="flex-1 rounded border border-accent/60 bg-bg px-1 py-0.5 font-mono text-[11px] text-fg"
                data-testid="edit-path"
                value={path.value}
                spellCheck={false}
                onChange={(e) => path.onChange(e.target.value)}
              />
            </label>
          ) : (
            <p className="mb-1 font-mono text-[11px] text-muted" data-testid="diff-path">
              {preview.path}
              {preview.newFile ? " (new file)" : ""}
              {preview.note ? ` · ${preview.note}` : ""}
            </p>
          )}
          <div className={`h-72 rounded border ${editing ? "border-accent/60" : "border-border"}`}>
            <DiffEditor
              path={preview.path}
              before={preview.before}
              after={preview.after}
              editable={editing}
              onChange={onEditText}
            />
          </div>
        </div>
      );
    case "diff_error":
      return (
        <div>
          <p className="text-[12px] text-warn" data-testid="preview-error">
            No diff: {preview.error}
          </p>
          <pre className="max-h-32 overflow-auto whitespace-pre-wrap break-all font-mono text-[11px] text-muted">
            {JSON.stringify(call.args, null, 1)}
          </pre>
        </div>
      );
    case "bash":
      return (
        <div data-testid="bash-preview">
          <pre className="overflow-auto whitespace-pre-wrap break-all rounded bg-bg px-2 py-1 font-mono text-[12px]">
            $ {preview.cmd}
          </pre>
          <p className="mt-1 text-[11px] text-muted">
            in{" "}
            <span className="font-mono" data-testid="bash-cwd">
              {preview.cwd}
            </span>
            {preview.timeout !== null ? ` · timeout ${preview.timeout}s` : ""}
          </p>
        </div>
      );
    case "args":
    case undefined:
      return (
        <pre
          className="max-h-40 overflow-auto whitespace-pre-wrap break-all font-mono text-[12px]"
          data-testid="tool-args"
        >
          {JSON.stringify(call.args, null, 2)}
        </pre>
      );
    default: {
      const never: never = preview;
      throw new Error(`unexpected preview ${JSON.stringify(never)}`);
    }
  }
}
