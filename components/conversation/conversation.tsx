"use client";
/**
 * The conversation column: messages in order (episode dividers, the person's tasks and
 * corrections, the agent's text), each proposed call as a card under the message that proposed
 * it, the reply being sampled (a draft, with a caret while tokens still come, until its stored
 * message takes its place), a banner when the agent answered and the task is done (its answer
 * open to correction), one when the step cap stopped it, and one when the agent failed and
 * needs the person. Messages a rewind set aside stay, struck through; the last rewind says what it
 * did and offers its undo.
 */
import { useEffect, useRef, useState } from "react";
import type { RewindRecord } from "@/lib/agent/rewind";
import type { SessionDecision } from "@/lib/conversation-page/action-schemas";
import type { Draft } from "@/lib/conversation-page/draft";
import { proposingLabel, replyDisplay } from "@/lib/conversation-page/reply-display";
import type { ConversationPageData } from "@/lib/conversation-page/page-data";
import { CorrectionBox } from "./correction-box";
import { type Pending, ToolCard } from "./tool-card";

export function Conversation({
  data,
  draft,
  busy,
  error,
  onDecide,
  onFailureCorrection,
  onCorrectAnswer,
  onRetry,
  onUndoRewind,
}: {
  data: ConversationPageData;
  draft: Draft | null;
  busy: boolean;
  error: string | null;
  onDecide: (toolCallId: string, d: SessionDecision) => void;
  onFailureCorrection: (toolCallId: string, text: string) => void;
  onCorrectAnswer: (messageId: string, text: string) => void;
  onRetry: () => void;
  onUndoRewind: (rewindId: string) => void;
}) {
  const { messages, toolCalls, corrections, awaiting, conversation } = data.view;
  // The latest rewind not undone yet is shown with its undo; an undo shows until something follows.
  const undoneIds = new Set(data.rewinds.flatMap((r) => (r.undoes ? [r.undoes] : [])));
  const lastRewind = data.rewinds.filter((r) => !undoneIds.has(r.rewindId)).at(-1) ?? null;
  const end = useRef<HTMLDivElement>(null);
  const callIds = new Set(toolCalls.map((c) => c.id));

  // biome-ignore lint/correctness/useExhaustiveDependencies: the dependencies are what grows the list; the effect scrolls to its end whenever one changes.
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [messages.length, toolCalls.length, draft?.text, awaiting?.kind]);

  function pendingFor(id: string): Pending {
    if (awaiting?.kind === "decision" && awaiting.toolCall.id === id)
      return { kind: "decision", preview: data.preview?.toolCallId === id ? data.preview.preview : null };
    if (awaiting?.kind === "failure_correction" && awaiting.toolCall.id === id)
      return { kind: "failure", suggestion: awaiting.suggestion };
    return null;
  }

  // The draft's raw text may hold tool-call markup: the person sees its prose and which call comes.
  const shownDraft = draft === null ? null : { ...draft, ...replyDisplay(draft.text) };
  let episodes = 0;
  return (
    <div className="min-h-0 flex-1 overflow-auto px-3 py-2 text-[13px]" data-testid="message-list">
      {messages.map((m) => {
        switch (m.role) {
          case "system":
            episodes += 1;
            return episodes === 1 ? null : (
              <div
                key={m.id}
                className="my-3 flex items-center gap-2 text-[11px] text-muted"
                data-testid="episode-divider"
              >
                <span className="h-px flex-1 bg-border" /> new episode (cleared){" "}
                <span className="h-px flex-1 bg-border" />
              </div>
            );
          case "user": {
            const kind = m.meta?.kind ?? "task";
            const rewound = Boolean(m.meta?.rewoundBy);
            return (
              <div
                key={m.id}
                className={`my-2 whitespace-pre-wrap rounded px-2 py-1 ${rewound ? "line-through opacity-50" : ""} ${kind === "correction" ? "border-l-2 border-danger bg-danger/10" : kind === "nudge" ? "text-muted" : "bg-panel-2"}`}
                data-testid="user-message"
                data-kind={kind}
                data-rewound={rewound}
                title={rewound ? "Rewound: no longer in the agent's context" : undefined}
              >
                <span className="mr-1 text-accent">❯</span>
                {m.content}
              </div>
            );
          }
          case "assistant": {
            const calls = toolCalls.filter((c) => c.messageId === m.id);
            const parseError = m.meta?.parseError;
            if (parseError) return <UnreadableReply key={m.id} text={m.content} detail={parseError.detail} />;
            return (
              <div key={m.id} className="my-2" data-testid="assistant-message">
                {m.content.trim() !== "" && (
                  <div className="whitespace-pre-wrap border-l-2 border-border pl-2 text-fg/80">{m.content}</div>
                )}
                {calls.map((c) => (
                  <ToolCard
                    key={`${c.id}:${c.status}`}
                    call={c}
                    corrections={corrections.filter((x) => x.toolCallId === c.id)}
                    pending={pendingFor(c.id)}
                    busy={busy}
                    error={pendingFor(c.id) ? error : null}
                    onDecide={(d) => onDecide(c.id, d)}
                    onFailureCorrection={(text) => onFailureCorrection(c.id, text)}
                  />
                ))}
              </div>
            );
          }
          case "tool":
            // A call's result is shown on its card; only an orphan tool message is shown alone.
            return m.toolCallId && callIds.has(m.toolCallId) ? null : (
              <pre key={m.id} className="my-1 whitespace-pre-wrap font-mono text-[11px] text-muted">
                {m.content}
              </pre>
            );
          default:
            return null;
        }
      })}
      {shownDraft !== null && (
        <div
          className={`my-2 whitespace-pre-wrap border-l-2 pl-2 text-fg/80 ${shownDraft.final ? "border-border" : "border-accent"}`}
          data-testid="streaming-message"
          data-final={shownDraft.final}
          aria-busy={!shownDraft.final}
        >
          <span data-testid="streaming-text">{shownDraft.prose}</span>
          {shownDraft.call && (
            <span
              className={`font-mono text-[12px] text-accent ${shownDraft.prose ? "ml-2" : ""}`}
              data-testid="streaming-call"
            >
              ● {proposingLabel(shownDraft.call)}
            </span>
          )}
          {!shownDraft.final && (
            <span className="ml-0.5 animate-pulse text-accent" title="sampling…" data-testid="streaming-caret">
              ▍
            </span>
          )}
        </div>
      )}
      {(conversation.state === "sampling" || conversation.state === "training") && draft === null && (
        <p className="my-2 text-[12px] text-muted" data-testid="agent-working">
          {conversation.state === "training" ? "training on your correction…" : "thinking…"}
        </p>
      )}
      {lastRewind && <RewindBanner record={lastRewind} busy={busy} onUndo={() => onUndoRewind(lastRewind.rewindId)} />}
      {awaiting?.kind === "answer" && (
        <ReplyBanner
          key={awaiting.messageId}
          kind="answer"
          messageId={awaiting.messageId}
          busy={busy}
          error={error}
          onCorrect={(text) => onCorrectAnswer(awaiting.messageId, text)}
        />
      )}
      {awaiting?.kind === "stopped" && (
        <div
          className="my-2 rounded border border-warn/60 bg-warn/10 px-2 py-1 text-[12px]"
          data-testid="agent-stopped"
        >
          {awaiting.reason} Nothing is pending: reply to continue.
        </div>
      )}
      {awaiting?.kind === "unreadable" && (
        <ReplyBanner
          key={awaiting.messageId}
          kind="unreadable"
          messageId={awaiting.messageId}
          reason={awaiting.reason}
          busy={busy}
          error={error}
          onRetry={onRetry}
          onCorrect={(text) => onCorrectAnswer(awaiting.messageId, text)}
        />
      )}
      {awaiting?.kind === "attention" && (
        <div className="my-2 rounded border border-warn/60 bg-warn/10 px-2 py-1 text-[12px]" data-testid="attention">
          {awaiting.reason}
          <button
            type="button"
            className="ml-2 rounded border border-border px-2 py-0.5 text-xs"
            data-testid="retry-button"
            onClick={onRetry}
          >
            Retry
          </button>
        </div>
      )}
      {messages.every((m) => m.role === "system") && draft === null && (
        <p className="my-4 text-center text-muted" data-testid="empty-conversation">
          Describe a task below. Each tool call the agent proposes waits for you: y approve · n deny with a correction ·
          e edit.
        </p>
      )}
      <div ref={end} />
    </div>
  );
}

/** A reply that could not be read as a message: its prose, that its call was malformed, and the raw text on request. */
function UnreadableReply({ text, detail }: { text: string; detail: string }) {
  const shown = replyDisplay(text);
  return (
    <div className="my-2 border-l-2 border-warn/60 pl-2" data-testid="assistant-message" data-parse-error="true">
      {shown.prose !== "" && <div className="whitespace-pre-wrap text-fg/80">{shown.prose}</div>}
      <details className="text-[12px] text-warn">
        <summary className="cursor-pointer">
          {shown.call ? `a malformed ${shown.call.name ?? "tool"} call` : "an unreadable reply"}: {detail}
        </summary>
        <pre
          className="mt-1 max-h-48 overflow-auto whitespace-pre-wrap break-all font-mono text-[11px] text-muted"
          data-testid="raw-reply"
        >
          {text}
        </pre>
      </details>
    </div>
  );
}

/**
 * The agent's last reply, open to a correction that trains like a denied call: an answer (the task
 * is done, said plainly so an idle conversation never looks stalled; it may claim work no tool call
 * did), or a reply that could not be read (which can also be sampled again).
 */
function ReplyBanner({
  kind,
  messageId,
  reason,
  busy,
  error,
  onRetry,
  onCorrect,
}: {
  kind: "answer" | "unreadable";
  messageId: string;
  /** Why an unreadable reply could not be read. */
  reason?: string;
  busy: boolean;
  error: string | null;
  onRetry?: () => void;
  onCorrect: (text: string) => void;
}) {
  const [correcting, setCorrecting] = useState(false);
  const answer = kind === "answer";
  const button = "ml-2 rounded border border-border px-2 py-0.5 text-xs";
  return (
    <div
      className={`my-2 rounded border px-2 py-1 text-[12px] ${answer ? "border-ok/50 bg-ok/10" : "border-warn/60 bg-warn/10"}`}
      data-testid={answer ? "agent-answered" : "reply-unreadable"}
      data-message-id={messageId}
    >
      <span>{answer ? "The agent answered; the task is done — reply to continue." : reason}</span>
      {!correcting && onRetry && (
        <button type="button" className={button} data-testid="retry-button" disabled={busy} onClick={onRetry}>
          Retry
        </button>
      )}
      {!correcting && (
        <button
          type="button"
          className={button}
          data-testid={answer ? "correct-answer-button" : "correct-reply-button"}
          onClick={() => setCorrecting(true)}
        >
          {answer ? "Correct this answer" : "Correct this reply"}
        </button>
      )}
      {correcting && (
        <CorrectionBox
          label={
            answer
              ? "What is wrong with the answer (e.g. it says it did something no tool call did)? The correction trains the agent and is shown to it."
              : "What should the reply have been (e.g. one call: read with path notes.txt)? The correction trains the agent and is shown to it."
          }
          submitLabel="Send correction"
          busy={busy}
          error={error}
          onSubmit={onCorrect}
          onCancel={() => setCorrecting(false)}
        />
      )}
    </div>
  );
}

/** What the last rewind did, with its undo (also "/undo" in the message box). */
function RewindBanner({ record, busy, onUndo }: { record: RewindRecord; busy: boolean; onUndo: () => void }) {
  const restored = record.files.filter((f) => f.action === "restored").length;
  const deleted = record.files.length - restored;
  const what = record.undoes
    ? "Rewind undone"
    : `Rewound ${record.mode === "both" ? "code and conversation" : record.mode === "code" ? "code only" : "conversation only"}`;
  return (
    <div
      className="my-2 rounded border border-accent/60 bg-accent/10 px-2 py-1 text-[12px]"
      data-testid="rewind-banner"
      data-mode={record.mode}
      data-undo={Boolean(record.undoes)}
    >
      {what}: {restored} file{restored === 1 ? "" : "s"} restored, {deleted} removed, {record.hidden.length} message
      {record.hidden.length === 1 ? "" : "s"} set aside
      {record.shown.length > 0 ? `, ${record.shown.length} put back` : ""}.
      <button
        type="button"
        className="ml-2 rounded border border-border px-2 py-0.5 text-xs"
        data-testid="undo-rewind"
        disabled={busy}
        onClick={onUndo}
      >
        Undo (/undo)
      </button>
    </div>
  );
}
