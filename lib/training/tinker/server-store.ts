/**
 * What the Tinker-protocol server keeps across a restart: sessions, training runs (base model,
 * LoRA rank and seed, steps taken, last checkpoints), checkpoints by their tinker:// path with
 * where the backend wrote them, and sampling sessions that can be reopened. One JSON file,
 * `<dir>/index.json`, rewritten whole on every change (written under a temporary name, flushed,
 * then renamed over the old one), so a crash leaves the old index or the new one, never half.
 *
 * A file and not the app's PGlite: `trainer serve` runs on training machines without the app, the
 * index is a few hundred bytes per run read once at start-up and never queried, and a person can
 * read it. Weights themselves stay where the backend saved them (the states directory).
 * Without a directory the index lives in memory only (in-process servers in tests and embedders).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export const INDEX_FILE = "index.json";

const checkpointKind = z.enum(["weights", "sampler_weights"]);

const storedSession = z.object({
  sessionId: z.string(),
  createdAt: z.string(),
  tags: z.array(z.string()),
});

const storedTrainingRun = z.object({
  modelId: z.string(),
  sessionId: z.string(),
  baseModel: z.string(),
  rank: z.number().int(),
  seed: z.number().int().nullable(),
  /** Optimizer steps taken by this run (a loaded checkpoint sets it to the checkpoint's). */
  step: z.number().int().nonnegative(),
  createdAt: z.string(),
  lastRequestAt: z.string(),
  unloaded: z.boolean(),
  lastCheckpoint: z.string().nullable(),
  lastSamplerCheckpoint: z.string().nullable(),
});

const storedCheckpoint = z.object({
  tinkerPath: z.string(),
  modelId: z.string(),
  kind: checkpointKind,
  name: z.string(),
  /**
   * Where the backend wrote it, from the backend itself and never from a request; null when the
   * backend kept it in memory only (it does not outlive the process).
   */
  backendPath: z.string().nullable(),
  baseModel: z.string(),
  rank: z.number().int(),
  step: z.number().int().nonnegative(),
  createdAt: z.string(),
});

const storedSampler = z.object({
  samplerId: z.string(),
  baseModel: z.string(),
  /** The sampler checkpoint it reads (a tinker:// path), or null for the base model. */
  modelPath: z.string().nullable(),
  /** Its weights lived in memory only (save_weights_and_get_sampling_client): gone after a restart. */
  ephemeral: z.boolean(),
});

const indexFile = z.object({
  version: z.literal(1),
  /** How many times a server has opened this index; request ids carry it (see FutureStore). */
  boots: z.number().int().nonnegative(),
  sessions: z.record(z.string(), storedSession),
  trainingRuns: z.record(z.string(), storedTrainingRun),
  checkpoints: z.record(z.string(), storedCheckpoint),
  samplers: z.record(z.string(), storedSampler),
});

export type StoredSession = z.infer<typeof storedSession>;
export type StoredTrainingRun = z.infer<typeof storedTrainingRun>;
export type StoredCheckpoint = z.infer<typeof storedCheckpoint>;
export type StoredSampler = z.infer<typeof storedSampler>;
type IndexFile = z.infer<typeof indexFile>;

export class ServerStore {
  private constructor(
    private readonly file: string | null,
    private readonly index: IndexFile,
  ) {}

  /**
   * Opens (or starts) the index in `dir` and counts this boot; null keeps it in memory. A file
   * that does not parse stops the server rather than being replaced: it names every checkpoint.
   */
  static open(dir: string | null): ServerStore {
    const empty: IndexFile = { version: 1, boots: 0, sessions: {}, trainingRuns: {}, checkpoints: {}, samplers: {} };
    if (dir === null) return new ServerStore(null, { ...empty, boots: 1 });
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, INDEX_FILE);
    let index = empty;
    let text: string | null = null;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text !== null) {
      const parsed = indexFile.safeParse(safeJson(text));
      if (!parsed.success)
        throw new Error(
          `${file} is not a trainer index this version reads (${z.prettifyError(parsed.error)}); move it aside to start empty`,
        );
      index = parsed.data;
    }
    const store = new ServerStore(file, { ...index, boots: index.boots + 1 });
    store.write();
    return store;
  }

  get boot(): number {
    return this.index.boots;
  }

  session(sessionId: string): StoredSession | undefined {
    return own(this.index.sessions, sessionId);
  }

  putSession(row: StoredSession): void {
    this.index.sessions[row.sessionId] = row;
    this.write();
  }

  /** Sessions, newest first. */
  sessions(): StoredSession[] {
    return Object.values(this.index.sessions).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  trainingRun(modelId: string): StoredTrainingRun | undefined {
    return own(this.index.trainingRuns, modelId);
  }

  putTrainingRun(row: StoredTrainingRun): void {
    this.index.trainingRuns[row.modelId] = row;
    this.write();
  }

  updateTrainingRun(modelId: string, change: Partial<Omit<StoredTrainingRun, "modelId">>): void {
    const row = own(this.index.trainingRuns, modelId);
    if (!row) return;
    this.index.trainingRuns[modelId] = { ...row, ...change };
    this.write();
  }

  /** Training runs, newest first. */
  trainingRuns(): StoredTrainingRun[] {
    return Object.values(this.index.trainingRuns).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  checkpoint(tinkerPath: string): StoredCheckpoint | undefined {
    return own(this.index.checkpoints, tinkerPath);
  }

  /** Records a checkpoint and makes it its run's latest of its kind. */
  putCheckpoint(row: StoredCheckpoint): void {
    this.index.checkpoints[row.tinkerPath] = row;
    const run = own(this.index.trainingRuns, row.modelId);
    if (run) {
      const latest =
        row.kind === "weights" ? { lastCheckpoint: row.tinkerPath } : { lastSamplerCheckpoint: row.tinkerPath };
      this.index.trainingRuns[row.modelId] = { ...run, ...latest };
    }
    this.write();
  }

  /** Checkpoints, newest first; of one run when `modelId` is given. */
  checkpoints(modelId?: string): StoredCheckpoint[] {
    return Object.values(this.index.checkpoints)
      .filter((c) => modelId === undefined || c.modelId === modelId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Forgets a checkpoint (and stops naming it as its run's latest): its path no longer resolves.
   * The backend's files stay where they are; the index is what makes a path reachable.
   */
  deleteCheckpoint(tinkerPath: string): void {
    const row = own(this.index.checkpoints, tinkerPath);
    if (!row) return;
    delete this.index.checkpoints[tinkerPath];
    const run = own(this.index.trainingRuns, row.modelId);
    if (run) {
      this.index.trainingRuns[row.modelId] = {
        ...run,
        lastCheckpoint: run.lastCheckpoint === tinkerPath ? null : run.lastCheckpoint,
        lastSamplerCheckpoint: run.lastSamplerCheckpoint === tinkerPath ? null : run.lastSamplerCheckpoint,
      };
    }
    this.write();
  }

  /** Sampling sessions by id. */
  samplers(): StoredSampler[] {
    return Object.values(this.index.samplers);
  }

  sampler(samplerId: string): StoredSampler | undefined {
    return own(this.index.samplers, samplerId);
  }

  putSampler(row: StoredSampler): void {
    this.index.samplers[row.samplerId] = row;
    this.write();
  }

  /** Replaces the index file in one rename, after its bytes are on disk. */
  private write(): void {
    if (this.file === null) return;
    const temporary = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(temporary, "w", 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(this.index, null, 1)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, this.file);
  }
}

/** A key the client chose never reaches Object.prototype ("__proto__", "constructor"). */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
