/**
 * What SDPO needs from a backend beyond the base contract, and how it finds out. Backends that say
 * nothing are assumed to offer only what Tinker does (its own losses, no ratio clip, no EMA).
 * Gradient control is the guard's need: a rejected step must not leave accumulated gradients
 * behind for the next optimizer step, so a client that can discard them says so here.
 */
import type {
  BackendCapabilities,
  GradientControl,
  LossFnName,
  TrainingBackend,
  TrainingClient,
} from "@/lib/training/types";
import type { LossMode } from "./config";

export const TINKER_CAPABILITIES: BackendCapabilities = {
  losses: ["cross_entropy", "importance_sampling", "ppo", "cispo"],
  importanceSamplingClipRatio: false,
  teacherModes: ["student", "frozen"],
};

export function capabilitiesOf(backend: Pick<TrainingBackend, "capabilities">): BackendCapabilities {
  const c = backend.capabilities;
  return {
    losses: c?.losses ?? TINKER_CAPABILITIES.losses,
    importanceSamplingClipRatio: c?.importanceSamplingClipRatio ?? false,
    teacherModes: c?.teacherModes ?? TINKER_CAPABILITIES.teacherModes,
  };
}

export type { GradientControl };

export function hasGradientControl(client: TrainingClient): client is TrainingClient & GradientControl {
  const c = client as Partial<GradientControl>;
  return typeof c.discardGradients === "function" && typeof c.gradientNorm === "function";
}

export function lossFnFor(mode: LossMode): LossFnName {
  switch (mode) {
    case "token":
      return "importance_sampling";
    case "full_kl":
      return "reverse_kl";
    case "topk_kl":
      return "topk_reverse_kl";
    default: {
      const never: never = mode;
      throw new Error(`unknown loss mode ${String(never)}`);
    }
  }
}

/** Refuses a loss mode the backend cannot train with, naming what it can. */
export function assertLossModeSupported(mode: LossMode, capabilities: BackendCapabilities): void {
  const loss = lossFnFor(mode);
  if (!capabilities.losses.includes(loss)) {
    throw new Error(
      `SDPO loss mode "${mode}" needs the ${loss} loss, which this backend cannot compute ` +
        `(full-vocabulary and top-k KL run only on the embedded backend); use loss mode "token"`,
    );
  }
}
