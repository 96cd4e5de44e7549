"use client";
/**
 * The required correction for a denial or a failed call: a text box (Enter sends, Shift-Enter
 * breaks the line, Escape cancels), chips that fill in a common correction, and the server's
 * refusal shown inline. Sending is refused while the text is blank unless a hint is prefilled.
 */
import { useEffect, useRef, useState } from "react";
import { CORRECTION_CHIPS } from "@/lib/conversation-page/corrections";

export function CorrectionBox({
  initial = "",
  label,
  submitLabel,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  initial?: string;
  label: string;
  submitLabel: string;
  busy: boolean;
  error: string | null;
  onSubmit: (text: string) => void;
  onCancel?: () => void;
}) {
  const [text, setText] = useState(initial);
  const [blank, setBlank] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  function submit() {
    if (busy) return;
    if (text.trim() === "") {
      setBlank(true);
      return;
    }
    onSubmit(text.trim());
  }

  return (
    <div className="mt-2 rounded border border-danger/50 bg-bg p-2" data-testid="correction-box">
      <label className="mb-1 block text-xs text-muted" htmlFor="correction-input">
        {label}
      </label>
      <textarea
        id="correction-input"
        ref={ref}
        rows={2}
        className="w-full resize-y rounded border border-border bg-panel px-2 py-1 font-mono text-[12px] outline-none focus:border-accent"
        data-testid="correction-input"
        value={text}
        placeholder="What should the agent do instead? (required)"
        onChange={(e) => {
          setText(e.target.value);
          setBlank(false);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          } else if (e.key === "Escape" && onCancel) {
            e.preventDefault();
            onCancel();
          }
        }}
      />
      <div className="mt-1 flex flex-wrap items-center gap-1">
        {CORRECTION_CHIPS.map((chip) => (
          <button
            key={chip.key}
            type="button"
            className="rounded border border-border px-1.5 py-0.5 text-[11px] text-muted hover:border-accent hover:text-fg"
            data-testid={`correction-chip-${chip.key}`}
            title={chip.text}
            onClick={() => {
              setText(chip.text);
              setBlank(false);
              ref.current?.focus();
            }}
          >
            <span className="font-mono text-accent">{chip.key}</span> {chip.label}
          </button>
        ))}
        <span className="flex-1" />
        {onCancel && (
          <button
            type="button"
            className="px-2 py-0.5 text-xs text-muted hover:text-fg"
            data-testid="correction-cancel"
            onClick={onCancel}
          >
            Cancel
          </button>
        )}
        <button
          type="button"
          className="rounded bg-danger px-2 py-0.5 text-xs text-white disabled:opacity-50"
          data-testid="correction-submit"
          disabled={busy}
          onClick={submit}
        >
          {submitLabel} ⏎
        </button>
      </div>
      {blank && (
        <p className="mt-1 text-xs text-danger" data-testid="correction-required">
          A correction is required: it is what the agent learns from.
        </p>
      )}
      {error && (
        <p className="mt-1 text-xs text-danger" data-testid="decision-error">
          {error}
        </p>
      )}
    </div>
  );
}
