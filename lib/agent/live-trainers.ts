/**
 * The LiveTrainers (lib/training/checkpoint-actions.ts) of a PolicyRuntime in this process: what
 * the settings actions and the adapter history use to save, forget and retrain the policy's
 * in-memory clients. A save waits behind the policy's training queue (runtime.serialise), so it
 * never captures half a step.
 */
import type { Config } from "@/lib/config";
import type { LiveTrainers } from "@/lib/training/checkpoint-actions";
import type { PolicyRuntime } from "./policy-runtime";

export function liveTrainersFromRuntime(
  runtime: PolicyRuntime,
  configFor: (ownerId: string) => Promise<Config>,
  train?: (policyId: string, ownerId: string) => void,
): LiveTrainers {
  return {
    saveState(policy, name) {
      return runtime.serialise(policy.id, async () =>
        runtime.use(policy, await configFor(policy.ownerId), async (opened) => {
          if (!opened.trainer) return null;
          return { path: await opened.trainer.saveState(name), step: opened.step };
        }),
      );
    },
    forget: (policyId) => runtime.forget(policyId),
    ...(train ? { train } : {}),
  };
}
