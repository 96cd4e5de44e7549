"use client";
/**
 * The conversation page: files | conversation | training, dense and keyboard-first. It renders what
 * the server read, then follows the conversation's SSE stream: the reply being sampled grows as
 * its tokens come (a draft, until the stored message replaces it), training_step events move the
 * step status at once, tool results refresh the file tree and the open file, events that only move
 * a status (decision, tool started, state) are applied to the page's data, and those that bring new
 * rows read the page's data again (coalesced; lib/conversation-page/live-view says which).
 */
import { useRouter } from "next/navigation";
import { useCallback, useRef, useState } from "react";
import {
  correctAnswer,
  decide,
  resumeConversation,
  rewindConversation,
  sendMessage,
  submitFailureCorrection,
  undoRewind,
} from "@/app/(ide)/conversations/actions";
import { undoVersionAction } from "@/app/(ide)/settings/checkpoints/actions";
import type { RewindMode } from "@/lib/agent/rewind";
import type { StepView } from "@/lib/charts/series";
import type { SessionDecision } from "@/lib/conversation-page/action-schemas";
import { type Draft, draftAfterEvent, draftBeside } from "@/lib/conversation-page/draft";
import { applyEvent, readsViewAfter } from "@/lib/conversation-page/live-view";
import type { ConversationPageData } from "@/lib/conversation-page/page-data";
import type { TreeEntry } from "@/lib/workspaces/tree";
import { ClearDialog, type Command, Composer } from "./composer";
import { Conversation } from "./conversation";
import { RewindDialog } from "./rewind-dialog";
import { RulesPanel } from "./rules-panel";
import { ConversationFiles } from "./conversation-files";
import { MetricsDialog } from "./metrics-dialog";
import { type StepState, TrainingPanel } from "./training-panel";
import { type LiveEvent, useConversationEvents } from "./use-conversation-events";

type Failure = { status: "not_found" | "unauthorized" } | { status: "invalid_data" | "conflict"; error: string };

function messageOf(res: Failure): string {
  switch (res.status) {
    case "not_found":
      return "Not found: it may have been removed.";
    case "unauthorized":
      return "Your session has ended: sign in again.";
    case "invalid_data":
    case "conflict":
      return res.error;
    default: {
      const never: never = res;
      throw new Error(`unexpected result ${JSON.stringify(never)}`);
    }
  }
}

function tooLongMessage({ promptTokens, budget }: { promptTokens: number; budget: number }): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return `Too long to send: the prompt would need ${n(promptTokens)} tokens, and the model's prompt budget is ${n(budget)}. Nothing was sent: shorten the message.`;
}

export function ConversationPage({
  initial,
  initialDraft,
  tree,
}: {
  initial: ConversationPageData;
  initialDraft: Draft | null;
  tree: TreeEntry[];
}) {
  const router = useRouter();
  const conversationId = initial.view.conversation.id;
  const [data, setData] = useState(initial);
  const [draft, setDraft] = useState<Draft | null>(initialDraft);
  const [liveSteps, setLiveSteps] = useState<Record<string, Partial<StepState>>>({});
  const [filesVersion, setFilesVersion] = useState(0);
  const [openFile, setOpenFile] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [decisionError, setDecisionError] = useState<string | null>(null);
  const [composerError, setComposerError] = useState<string | null>(null);
  const [clearing, setClearing] = useState(false);
  const [clearError, setClearError] = useState<string | null>(null);
  const [metrics, setMetrics] = useState<{ metrics: Record<string, number> | null } | null>(null);
  const [rewinding, setRewinding] = useState(false);
  const [rewindError, setRewindError] = useState<string | null>(null);
  const [rewindNotice, setRewindNotice] = useState<string | null>(null);

  // Reads coalesce: a burst of events (decision, message, state …) costs one request.
  const refetching = useRef<{ timer: ReturnType<typeof setTimeout> | null; again: boolean; running: boolean }>({
    timer: null,
    again: false,
    running: false,
  });
  const refetch = useCallback(() => {
    const r = refetching.current;
    if (r.timer) return;
    r.timer = setTimeout(async () => {
      r.timer = null;
      if (r.running) {
        r.again = true;
        return;
      }
      r.running = true;
      try {
        const res = await fetch(`/api/conversations/${conversationId}`, { cache: "no-store" });
        if (res.ok) {
          const next = (await res.json()) as ConversationPageData;
          setData(next);
          setDraft((d) => draftBeside(d, next.view.messages));
        }
      } finally {
        r.running = false;
        if (r.again) {
          r.again = false;
          refetch();
        }
      }
    }, 80);
  }, [conversationId]);

  useConversationEvents(conversationId, initial.view.lastEventId, (e: LiveEvent) => {
    setDraft((d) => draftAfterEvent(d, e));
    setData((d) => applyEvent(d, e));
    if (e.type === "training_step") {
      const { trainingStepId: id, status, step, lossFn, error } = e.payload;
      setLiveSteps((prev) => ({ ...prev, [id]: { ...prev[id], id, status, step, lossFn, error } }));
    }
    if (e.type === "result" || e.type === "rewind") setFilesVersion((v) => v + 1);
    if (readsViewAfter(e)) refetch();
  });

  // Rows from the server, with the stream's newer statuses on top (the server catches up next read).
  const steps: StepState[] = data.view.trainingSteps.map((s) => ({ ...s, ...liveSteps[s.id], metrics: s.metrics }));
  for (const [id, s] of Object.entries(liveSteps)) {
    if (!steps.some((x) => x.id === id) && s.lossFn)
      steps.push({
        id,
        status: s.status ?? "queued",
        step: s.step ?? null,
        lossFn: s.lossFn,
        error: s.error ?? null,
        metrics: null,
      });
  }

  async function onDecide(toolCallId: string, decision: SessionDecision) {
    setBusy(true);
    try {
      const res = await decide({ toolCallId, decision });
      if (res.status === "ok") setDecisionError(null);
      else {
        // Refused: read what is stored now (e.g. the call was decided elsewhere). An accepted
        // decision's events bring its changes.
        setDecisionError(messageOf(res));
        refetch();
      }
    } finally {
      setBusy(false);
    }
  }

  async function onFailureCorrection(toolCallId: string, correction: string) {
    setBusy(true);
    try {
      const res = await submitFailureCorrection({ toolCallId, correction });
      setDecisionError(res.status === "ok" ? null : messageOf(res));
    } finally {
      setBusy(false);
      refetch();
    }
  }

  async function onCorrectAnswer(messageId: string, correction: string) {
    setBusy(true);
    try {
      const res = await correctAnswer({ conversationId, messageId, correction });
      setDecisionError(res.status === "ok" ? null : messageOf(res));
    } finally {
      setBusy(false);
      refetch();
    }
  }

  async function onSend(text: string): Promise<boolean> {
    setBusy(true);
    try {
      const res = await sendMessage({ conversationId, text });
      if (res.status !== "ok") {
        setComposerError(messageOf(res));
        return false;
      }
      switch (res.result.kind) {
        case "too_long":
          // Nothing was stored: the text stays in the composer to be shortened.
          setComposerError(tooLongMessage(res.result));
          return false;
        case "metrics":
          setMetrics({ metrics: res.result.metrics });
          break;
        case "message":
        case "cleared":
          break;
        default: {
          const never: never = res.result;
          throw new Error(`unexpected result ${JSON.stringify(never)}`);
        }
      }
      setComposerError(null);
      return true;
    } finally {
      setBusy(false);
      refetch();
    }
  }

  /** A message typed while a call waits: that call's denial, the message its correction. */
  async function onDenyWith(correction: string): Promise<boolean> {
    const awaiting = data.view.awaiting;
    if (awaiting?.kind !== "decision") return onSend(correction);
    setBusy(true);
    try {
      const res = await decide({ toolCallId: awaiting.toolCall.id, decision: { kind: "deny", correction } });
      setComposerError(res.status === "ok" ? null : messageOf(res));
      return res.status === "ok";
    } finally {
      setBusy(false);
      refetch();
    }
  }
  async function onRewind(messageId: string, mode: RewindMode) {
    setBusy(true);
    try {
      const res = await rewindConversation({ conversationId, messageId, mode });
      if (res.status === "ok") {
        setRewinding(false);
        setRewindError(null);
        setRewindNotice(null);
      } else setRewindError(messageOf(res));
    } finally {
      setBusy(false);
      setFilesVersion((v) => v + 1);
      refetch();
    }
  }
  async function onUndoRewind(rewindId?: string) {
    const undone = new Set(data.rewinds.flatMap((r) => (r.undoes ? [r.undoes] : [])));
    const id = rewindId ?? data.rewinds.filter((r) => !undone.has(r.rewindId)).at(-1)?.rewindId;
    if (!id) {
      setComposerError("There is no rewind to undo.");
      return;
    }
    setBusy(true);
    try {
      const res = await undoRewind({ conversationId, rewindId: id });
      setComposerError(res.status === "ok" ? null : messageOf(res));
    } finally {
      setBusy(false);
      setFilesVersion((v) => v + 1);
      refetch();
    }
  }
  async function onUndoVersions(version: number) {
    const policyId = data.view.conversation.policyId;
    if (!policyId) return;
    setBusy(true);
    try {
      const res = await undoVersionAction({ policyId, version, replay: false });
      if (res.status === "done")
        setRewindNotice(`Adapter version ${version} and those after it were undone (now version ${res.version}).`);
      else
        setRewindError(res.status === "failed" ? res.error : `The adapter versions were not undone (${res.status}).`);
    } finally {
      setBusy(false);
      refetch();
    }
  }
  /** "/c" confirmed: the dialog closes once cleared, and otherwise says why not. */
  async function onClear() {
    setBusy(true);
    try {
      const res = await sendMessage({ conversationId, text: "/c" });
      if (res.status === "ok") {
        setClearing(false);
        setClearError(null);
      } else setClearError(messageOf(res));
    } finally {
      setBusy(false);
      refetch();
    }
  }

  function onCommand(command: Command) {
    switch (command) {
      case "clear":
        setClearing(true);
        return;
      case "metrics":
        void onSend("/metrics");
        return;
      case "quit":
        router.push(`/workspaces/${data.workspace.id}`);
        return;
      case "rewind":
        setRewinding(true);
        return;
      case "undo_rewind":
        void onUndoRewind();
        return;
      default: {
        const never: never = command;
        throw new Error(`unknown command ${String(never)}`);
      }
    }
  }

  const conv = data.view.conversation;
  // The page's data went through JSON: its timestamps are ISO strings, as StepView wants them.
  const iso = (d: unknown) => (d == null ? null : String(d));
  const initialSteps: StepView[] = data.view.trainingSteps.map((s) => ({
    id: s.id,
    policyId: s.policyId,
    step: s.step,
    status: s.status,
    error: s.error,
    queuedAt: String(s.queuedAt),
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    metrics: s.metrics,
  }));
  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="session-page" data-state={conv.state}>
      <div className="flex h-8 shrink-0 items-center gap-3 border-b border-border px-3">
        <a
          href={`/workspaces/${data.workspace.id}`}
          className="text-xs text-muted hover:text-fg"
          data-testid="session-workspace-link"
        >
          {data.workspace.name}
        </a>
        <span className="text-muted">/</span>
        <h1 className="truncate font-medium" data-testid="conversation-title">
          {conv.title}
        </h1>
        <span className="flex-1" />
        <span className="font-mono text-[11px] text-muted" data-testid="conversation-state">
          {conv.state}
        </span>
      </div>
      <div className="flex min-h-0 flex-1">
        <aside className="w-64 shrink-0 border-r border-border bg-panel" data-testid="session-files">
          <ConversationFiles
            workspaceId={data.workspace.id}
            initialEntries={tree}
            version={filesVersion}
            open={openFile}
            onOpen={setOpenFile}
          />
        </aside>
        <main className="flex min-w-0 flex-1 flex-col" data-testid="conversation">
          <Conversation
            data={data}
            draft={draftBeside(draft, data.view.messages)}
            busy={busy}
            error={decisionError}
            onDecide={onDecide}
            onFailureCorrection={onFailureCorrection}
            onCorrectAnswer={onCorrectAnswer}
            onRetry={async () => {
              const res = await resumeConversation({ conversationId });
              setDecisionError(res.status === "ok" ? null : messageOf(res));
              refetch();
            }}
            onUndoRewind={(id) => void onUndoRewind(id)}
          />
          <Composer
            busy={busy}
            error={composerError}
            pendingCall={data.view.awaiting?.kind === "decision"}
            onSend={onSend}
            onDenyWith={onDenyWith}
            onCommand={onCommand}
          />
        </main>
        <aside className="flex w-80 shrink-0 flex-col border-l border-border bg-panel">
          <div className="min-h-0 flex-1">
            <TrainingPanel steps={steps} policyId={conv.policyId} initial={initialSteps} />
          </div>
          <RulesPanel rules={data.rules} autoApproveReadonly={data.autoApproveReadonly} onChanged={refetch} />
        </aside>
      </div>
      {clearing && (
        <ClearDialog
          busy={busy}
          error={clearError}
          onCancel={() => {
            setClearing(false);
            setClearError(null);
          }}
          onConfirm={onClear}
        />
      )}
      {rewinding && (
        <RewindDialog
          points={data.rewindPoints}
          steps={data.view.trainingSteps.map((s) => ({
            id: s.id,
            step: s.step,
            status: s.status,
            queuedAt: String(s.queuedAt),
          }))}
          versions={data.adapterVersions}
          busy={busy}
          error={rewindError}
          notice={rewindNotice}
          onRewind={onRewind}
          onUndoVersions={onUndoVersions}
          onCancel={() => {
            setRewinding(false);
            setRewindError(null);
            setRewindNotice(null);
          }}
        />
      )}
      {metrics && <MetricsDialog metrics={metrics.metrics} onClose={() => setMetrics(null)} />}
    </div>
  );
}
