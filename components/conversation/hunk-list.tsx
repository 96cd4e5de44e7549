"use client";
/**
 * The hunks of a proposed file change, each accepted or rejected on its own: click the buttons, or
 * focus a hunk (h focuses the first, j / k move) and press a (accept) or r (reject; the reason box
 * takes the focus, Esc leaves it). A rejected hunk may say why, with the same chips as a denial; that reason trains like one. "Apply choices"
 * (Enter on it, or A) sends them all: y and n still decide the whole call.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { formatHunk, splitHunks } from "@/lib/agent/hunks";
import { CORRECTION_CHIPS } from "@/lib/conversation-page/corrections";
import { isTypingTarget } from "@/lib/conversation-page/keys";
import type { HunkChoice } from "@/lib/conversation-page/hunk-review";

export function HunkList({
  before,
  after,
  busy,
  onApply,
}: {
  before: string;
  after: string;
  busy: boolean;
  onApply: (choices: HunkChoice[]) => void;
}) {
  const hunks = useMemo(() => splitHunks(before, after), [before, after]);
  const [choices, setChoices] = useState<HunkChoice[]>(() => hunks.map(() => ({ accept: true })));
  const rows = useRef<(HTMLDivElement | null)[]>([]);
  const applyButton = useRef<HTMLButtonElement>(null);
  const reasons = useRef<(HTMLInputElement | null)[]>([]);

  const set = (i: number, patch: Partial<HunkChoice>) =>
    setChoices((cs) => cs.map((c, j) => (j === i ? { ...c, ...patch } : c)));

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      const target = event.target as HTMLElement | null;
      if (isTypingTarget(target)) return;
      const focused = rows.current.findIndex((r) => r !== null && r === target);
      if (event.key === "h") {
        event.preventDefault();
        rows.current[0]?.focus();
      } else if (event.key === "A") {
        event.preventDefault();
        applyButton.current?.focus();
      } else if (focused !== -1 && (event.key === "j" || event.key === "k")) {
        event.preventDefault();
        rows.current[Math.max(0, Math.min(hunks.length - 1, focused + (event.key === "j" ? 1 : -1)))]?.focus();
      } else if (focused !== -1 && (event.key === "a" || event.key === "r")) {
        event.preventDefault();
        event.stopPropagation();
        set(focused, { accept: event.key === "a" });
        // A rejection's optional reason is typed next; Esc goes back to the hunk.
        if (event.key === "r") setTimeout(() => reasons.current[focused]?.focus(), 0);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  if (hunks.length < 2) return null;
  const rejected = choices.filter((c) => !c.accept).length;
  return (
    <div className="mt-1 rounded border border-border" data-testid="hunk-list">
      <div className="flex items-center gap-2 border-b border-border px-2 py-0.5 text-[11px] text-muted">
        <span>
          {hunks.length} hunks · <kbd>h</kbd> focus · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>a</kbd> accept ·{" "}
          <kbd>r</kbd> reject
        </span>
        <span className="flex-1" />
        <button
          ref={applyButton}
          type="button"
          className="rounded bg-accent px-2 py-0.5 text-xs text-accent-fg disabled:opacity-50"
          data-testid="apply-hunks"
          disabled={busy}
          onClick={() => onApply(choices)}
        >
          Apply choices ({hunks.length - rejected} accepted, {rejected} rejected) <kbd className="opacity-70">A</kbd>
        </button>
      </div>
      {hunks.map((h, i) => {
        const choice = choices[i]!;
        return (
          <div
            // biome-ignore lint/suspicious/noArrayIndexKey: a proposal's hunks never reorder; the position is the hunk's number.
            key={i}
            ref={(el) => {
              rows.current[i] = el;
            }}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: each hunk is a focus stop for the j/k/a/r keys; its buttons serve the pointer.
            tabIndex={0}
            className={`border-b border-border px-2 py-1 outline-none last:border-b-0 focus:bg-accent/10 ${choice.accept ? "" : "opacity-70"}`}
            data-testid="hunk"
            data-hunk={i + 1}
            data-choice={choice.accept ? "accepted" : "rejected"}
          >
            <div className="flex items-center gap-2 text-[11px]">
              <span className="text-muted">
                hunk {i + 1} of {hunks.length}
              </span>
              <span className="flex-1" />
              <button
                type="button"
                className={`rounded px-2 py-0.5 text-xs ${choice.accept ? "bg-ok text-black" : "border border-border"}`}
                data-testid="hunk-accept"
                onClick={() => set(i, { accept: true })}
              >
                Accept <kbd className="opacity-70">a</kbd>
              </button>
              <button
                type="button"
                className={`rounded px-2 py-0.5 text-xs ${choice.accept ? "border border-border" : "bg-danger text-white"}`}
                data-testid="hunk-reject"
                onClick={() => set(i, { accept: false })}
              >
                Reject <kbd className="opacity-70">r</kbd>
              </button>
            </div>
            <pre className="mt-1 max-h-32 overflow-auto whitespace-pre-wrap break-all font-mono text-[11px]">
              {formatHunk(h)
                .split("\n")
                .map((line, j) => (
                  <span
                    // biome-ignore lint/suspicious/noArrayIndexKey: the lines of a rendered hunk are fixed text; the position is the line.
                    key={j}
                    className={
                      line.startsWith("+")
                        ? "block text-ok"
                        : line.startsWith("-")
                          ? "block text-danger"
                          : "block text-muted"
                    }
                  >
                    {line}
                  </span>
                ))}
            </pre>
            {!choice.accept && (
              <div className="mt-1 flex flex-wrap items-center gap-1">
                <input
                  ref={(el) => {
                    reasons.current[i] = el;
                  }}
                  className="min-w-48 flex-1 rounded border border-border bg-bg px-1 py-0.5 text-[12px]"
                  placeholder="Why reject this hunk? (optional; trains like a denial)"
                  data-testid="hunk-correction"
                  value={choice.correction ?? ""}
                  onChange={(e) => set(i, { correction: e.target.value })}
                  onKeyDown={(e) => {
                    if (e.key === "Escape") rows.current[i]?.focus();
                  }}
                />
                {CORRECTION_CHIPS.map((chip) => (
                  <button
                    key={chip.key}
                    type="button"
                    className="rounded border border-border px-1.5 py-0.5 text-[11px] text-muted hover:text-fg"
                    title={chip.text}
                    onClick={() => set(i, { correction: chip.text })}
                  >
                    {chip.label}
                  </button>
                ))}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}
