"use client";
/**
 * The message box and the original's commands: "/c" clears the conversation (after a
 * confirmation: a new episode starts; weights, rules and steps stay), "/metrics" opens the last
 * training step's metrics, "/q" leaves for the workspace. Enter sends, Shift-Enter breaks the
 * line, Escape leaves the box so the decision keys work again. A message sent while a call waits
 * for a decision denies that call with the message as its correction, after a one-line
 * confirmation the first time. "/rewind" and "/undo" open rewind and undo the last one.
 */
import { useState } from "react";
import { type Command, commandOf } from "@/lib/conversation-page/commands";

export type { Command };

/** Remembered once confirmed: a message typed while a call waits is its denial from then on. */
const TYPED_DENIAL_KEY = "continualcode.typedDenialConfirmed";

export function Composer({
  busy,
  error,
  pendingCall,
  onSend,
  onDenyWith,
  onCommand,
}: {
  busy: boolean;
  error: string | null;
  /** A call awaits a decision: a message sent now denies it, the message its correction. */
  pendingCall: boolean;
  onSend: (text: string) => Promise<boolean>;
  onDenyWith: (correction: string) => Promise<boolean>;
  onCommand: (c: Command) => void;
}) {
  const [text, setText] = useState("");
  const [confirming, setConfirming] = useState(false);

  async function submit() {
    const value = text.trim();
    if (!value || busy) return;
    const command = commandOf(value);
    if (command) {
      setText("");
      onCommand(command);
      return;
    }
    if (pendingCall) {
      // The first time, one line says what sending does; Enter again confirms.
      if (!confirming && window.localStorage.getItem(TYPED_DENIAL_KEY) !== "yes") {
        setConfirming(true);
        return;
      }
      window.localStorage.setItem(TYPED_DENIAL_KEY, "yes");
      setConfirming(false);
      if (await onDenyWith(value)) setText("");
      return;
    }
    if (await onSend(value)) setText("");
  }

  return (
    <div className="shrink-0 border-t border-border bg-panel p-2">
      <div className="flex items-end gap-2">
        <span className="pb-1 text-accent">❯</span>
        <textarea
          rows={2}
          className="min-h-10 flex-1 resize-none rounded border border-border bg-bg px-2 py-1 font-mono text-[13px] outline-none focus:border-accent"
          placeholder="Message the agent · /c clear · /metrics · /q leave · Esc then y/n/e to decide"
          data-testid="composer-input"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setConfirming(false);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void submit();
            } else if (e.key === "Escape") {
              if (confirming) setConfirming(false);
              else e.currentTarget.blur();
            }
          }}
        />
        <button
          type="button"
          className="rounded bg-accent px-3 py-1 text-xs text-accent-fg disabled:opacity-50"
          data-testid="composer-send"
          disabled={busy || text.trim() === ""}
          onClick={() => void submit()}
        >
          Send
        </button>
      </div>
      {confirming && pendingCall && (
        <p className="mt-1 text-xs text-warn" role="alert" data-testid="typed-denial-confirm">
          A call is waiting for your decision: Enter again denies it with this message as the correction (asked only
          this once) · Esc keeps editing.
        </p>
      )}
      {error && (
        <p className="mt-1 text-xs text-danger" data-testid="composer-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** "/c" asks first: it starts a new episode and the agent forgets the conversation so far. */
export function ClearDialog({
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div
      className="fixed inset-0 z-50 flex items-center justify-center bg-black/60"
      role="dialog"
      aria-modal="true"
      aria-labelledby="clear-title"
      data-testid="clear-dialog"
    >
      <div
        role="document"
        className="w-96 rounded border border-border bg-panel p-4"
        onKeyDown={(e) => {
          if (e.key === "Escape") onCancel();
        }}
      >
        <h2 id="clear-title" className="mb-2 font-medium">
          Clear the conversation?
        </h2>
        <p className="mb-4 text-[13px] text-muted">
          The agent starts a new episode and no longer sees the messages so far. Its trained weights, your rules and the
          training history stay.
        </p>
        {/* Shown here, not under the composer: the dialog covers the page while it is open. */}
        {error && (
          <p
            className="mb-3 rounded border border-danger/60 bg-danger/10 px-2 py-1 text-xs text-danger"
            role="alert"
            data-testid="clear-error"
          >
            Not cleared. {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <button
            type="button"
            className="rounded border border-border px-3 py-1 text-xs"
            data-testid="clear-cancel"
            onClick={onCancel}
            // biome-ignore lint/a11y/noAutofocus: a confirmation dialog opens with focus on its safe choice.
            autoFocus
          >
            Cancel
          </button>
          <button
            type="button"
            className="rounded bg-danger px-3 py-1 text-xs text-white disabled:opacity-50"
            data-testid="clear-confirm"
            disabled={busy}
            onClick={onConfirm}
          >
            Clear
          </button>
        </div>
      </div>
    </div>
  );
}
