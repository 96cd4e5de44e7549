"use client";
/**
 * useTrainingStream(options?) → { steps, status }: the signed-in user's training steps, live.
 * Opens an EventSource on /api/training-steps/stream; the server's `snapshot` event replaces the
 * list (also after a reconnect), each `steps` event merges changed steps by id, so a chart gets a
 * point the moment an SDPO step finishes, pushed rather than polled.
 *
 * Options (all optional):
 *   initial   steps rendered on the server, shown until the snapshot arrives
 *   policyId  keep only this policy's steps
 *   replay    how many recent steps the snapshot holds (default 500, max 10,000)
 * status: "connecting" until the snapshot, "live" while connected, "reconnecting" after a drop
 * (EventSource retries by itself).
 */
import { useEffect, useMemo, useState } from "react";
import { mergeSteps, type StepView } from "@/lib/charts/series";

export type TrainingStreamStatus = "connecting" | "live" | "reconnecting";

export function useTrainingStream(options: { initial?: StepView[]; policyId?: string; replay?: number } = {}): {
  steps: StepView[];
  status: TrainingStreamStatus;
} {
  const { initial, policyId, replay } = options;
  const [all, setAll] = useState<StepView[]>(() => initial ?? []);
  const [status, setStatus] = useState<TrainingStreamStatus>("connecting");

  useEffect(() => {
    const query = replay === undefined ? "" : `?replay=${replay}`;
    const source = new EventSource(`/api/training-steps/stream${query}`);
    const onSnapshot = (e: MessageEvent<string>) => {
      setAll(JSON.parse(e.data) as StepView[]);
      setStatus("live");
    };
    const onSteps = (e: MessageEvent<string>) =>
      setAll((current) => mergeSteps(current, JSON.parse(e.data) as StepView[]));
    const onError = () => setStatus("reconnecting");
    source.addEventListener("snapshot", onSnapshot);
    source.addEventListener("steps", onSteps);
    source.addEventListener("error", onError);
    return () => source.close();
  }, [replay]);

  const steps = useMemo(() => (policyId ? all.filter((s) => s.policyId === policyId) : all), [all, policyId]);
  return { steps, status };
}
