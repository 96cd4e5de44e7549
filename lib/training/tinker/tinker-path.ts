/**
 * `tinker://<training_run_id>/<weights|sampler_weights>/<name>`: the names the Tinker-protocol
 * server gives checkpoints (tinker-api.md §6). A path is only ever looked up in the server's own
 * index, never handed to the filesystem, so the grammar here is what keeps a client's string from
 * naming anything else: one plain segment per part, no `.` or `..`, no separators inside a part.
 */
import { UserError } from "./server-state";

export const CHECKPOINT_KINDS = ["weights", "sampler_weights"] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

export interface TinkerPath {
  runId: string;
  kind: CheckpointKind;
  name: string;
}

/** Longer than any name a person or the SDK's recipes choose; bounds what is echoed in errors. */
const MAX_PATH_LENGTH = 512;

/** A checkpoint name: letters, digits, `.`, `_`, `-`, not starting with `.` (so never `.` or `..`). */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
/** A training run id, as this server issues them: `<session_id>:train:<n>`. */
const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._:-]{0,199}$/;
const PATH = new RegExp(`^tinker://([^/]+)/(${CHECKPOINT_KINDS.join("|")})/([^/]+)$`);

export function formatTinkerPath(path: TinkerPath): string {
  return `tinker://${path.runId}/${path.kind}/${path.name}`;
}

/** The parts of a well-formed tinker:// path, or null for anything else. */
export function parseTinkerPath(text: string): TinkerPath | null {
  if (text.length > MAX_PATH_LENGTH) return null;
  const match = PATH.exec(text);
  if (!match) return null;
  const [, runId, kindText, name] = match;
  const kind = CHECKPOINT_KINDS.find((k) => k === kindText);
  if (!kind || !RUN_ID.test(runId) || !NAME.test(name)) return null;
  return { runId, kind, name };
}

/** Refuses a checkpoint name a client asks to save under, naming the rule. */
export function checkCheckpointName(name: string): void {
  if (!NAME.test(name)) {
    throw new UserError(
      `checkpoint name must be 1–200 letters, digits, '.', '_' or '-', not starting with '.'; got ${JSON.stringify(name.slice(0, 100))}`,
    );
  }
}

/** What an error may say about a path a client sent: the path clipped, as JSON (no control characters). */
export function quotePath(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}
