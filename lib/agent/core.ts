/**
 * What every part of the agent shares: the database, the training backend and the policies in
 * memory, the user's configuration, renderers and context windows per model, event publishing,
 * and the in-process schedulers. A conversation has at most one driver running in this process
 * (a kick while it runs makes it look again), and a policy's training runs one step at a time;
 * `idle()` waits until both have nothing left to do (tests, graceful shutdown). Both run under a
 * lease (lib/db/instance-leases.ts), so with several instances on one database each conversation
 * and each policy's queue runs in one instance at a time; a kick elsewhere finds the lease taken
 * and leaves the work to its holder.
 */
import { getRenderer } from "@/lib/chat";
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import type { Config, Env } from "@/lib/config";
import { configForUser } from "@/lib/config/server";
import type { Db } from "@/lib/db/client";
import { InstanceLeases } from "@/lib/db/instance-leases";
import {
  type ConversationState,
  getConversationForOwner,
  updateConversationState,
} from "@/lib/db/queries/conversations";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { Conversation } from "@/lib/db/schema";
import { ASSUMED_CONTEXT_WINDOW } from "@/lib/config/reply-tokens";
import { AppError } from "@/lib/errors";
import { DEFAULT_POLICY } from "@/lib/sandbox/policy";
import type { SandboxMode } from "@/lib/sandbox/run";
import type { TrainingBackend } from "@/lib/training/types";
import { type AgentEventPayloads, type AgentEventType, EventBus, publishEvent } from "./events";
import { PolicyRuntime } from "./policy-runtime";

/** Context window used when the backend does not say. */
export const DEFAULT_CONTEXT_WINDOW = ASSUMED_CONTEXT_WINDOW;

export type AgentDeps = {
  db: Db;
  backend: TrainingBackend;
  /** Tool specs shown to the model (default: all seven). */
  tools: ToolSpec[];
  systemPrompt: (input: { cwd: string }) => string;
  /** Environment the user's configuration is resolved against (default process.env). */
  env?: Env;
  /** This instance's leases (default: a new instance id over `db`). */
  leases?: InstanceLeases;
  /** Where published events reach this process's subscribers (default: a bus of its own). */
  events?: EventBus;
};

type Driver = { again: boolean };

export class AgentCore {
  readonly runtime: PolicyRuntime;
  readonly leases: InstanceLeases;
  readonly events: EventBus;
  private readonly renderers = new Map<string, Promise<Renderer>>();
  private readonly windows = new Map<string, Promise<number>>();
  private readonly drivers = new Map<string, Driver>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    readonly deps: AgentDeps,
    private readonly hooks: {
      drive: (core: AgentCore, conversationId: string, ownerId: string) => Promise<void>;
      train: (core: AgentCore, policyId: string, ownerId: string) => Promise<void>;
    },
  ) {
    this.runtime = new PolicyRuntime({ db: deps.db, backend: deps.backend });
    this.leases = deps.leases ?? new InstanceLeases({ db: deps.db });
    this.events = deps.events ?? new EventBus();
  }

  get db(): Db {
    return this.deps.db;
  }

  config(ownerId: string): Promise<Config> {
    return configForUser({ db: this.db, userId: ownerId, env: this.deps.env }).then((r) => r.config);
  }

  renderer(model: string): Promise<Renderer> {
    let r = this.renderers.get(model);
    if (!r) {
      r = getRenderer(model);
      this.renderers.set(model, r);
      r.catch(() => this.renderers.delete(model));
    }
    return r;
  }

  /** The model's context window in tokens (backend listModels, else the default). */
  contextWindow(model: string): Promise<number> {
    let w = this.windows.get(model);
    if (!w) {
      w = this.deps.backend
        .listModels()
        .then((models) => models.find((m) => m.modelName === model)?.maxContextLength ?? DEFAULT_CONTEXT_WINDOW);
      this.windows.set(model, w);
      w.catch(() => this.windows.delete(model));
    }
    return w;
  }

  sandboxMode(config: Config): SandboxMode {
    return config.unsandboxedBash ? "unsandboxed" : "bwrap";
  }

  /** The working directory the model is told about: where its tools see the workspace. */
  promptCwd(config: Config, workspacePath: string): string {
    return this.sandboxMode(config) === "bwrap" ? DEFAULT_POLICY.sandboxWorkspace : workspacePath;
  }

  publish<T extends AgentEventType>(
    conv: Pick<Conversation, "id" | "ownerId">,
    type: T,
    payload: AgentEventPayloads[T],
  ) {
    return publishEvent({
      db: this.db,
      bus: this.events,
      ownerId: conv.ownerId,
      conversationId: conv.id,
      type,
      payload,
    });
  }

  /** Compare-and-set of the conversation's state; a conflict when it was not in `from`. */
  async setState(
    conv: Pick<Conversation, "id" | "ownerId">,
    state: ConversationState,
    from: readonly ConversationState[],
    db: Db = this.db,
  ): Promise<Conversation> {
    const row = await updateConversationState({ db, id: conv.id, ownerId: conv.ownerId, state, from });
    if (!row) throw new AppError("conflict:conversation", `The conversation is busy (it is not ${from.join(" or ")}).`);
    return row;
  }

  /** Keeps track of background work so `idle()` can wait for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const done = () => this.inflight.delete(work);
    work.then(done, done);
    return work;
  }

  /**
   * Makes the conversation's driver act on its current state (starting it if none runs), in
   * this instance if it can take the conversation's lease; else its holder is driving it.
   */
  kick(conversationId: string, ownerId: string, { lookAgain = true }: { lookAgain?: boolean } = {}): void {
    const running = this.drivers.get(conversationId);
    if (running) {
      running.again = true;
      return;
    }
    const driver: Driver = { again: false };
    this.drivers.set(conversationId, driver);
    const resource = { kind: "conversation", id: conversationId } as const;
    void this.track(
      (async () => {
        let ran = false;
        try {
          ({ ran } = await this.leases.run(resource, async () => {
            do {
              driver.again = false;
              await this.hooks.drive(this, conversationId, ownerId);
            } while (driver.again && this.leases.holds(resource));
          }));
        } finally {
          this.drivers.delete(conversationId);
        }
        // A kick from another instance while this one held the lease found it taken and left
        // the work here, perhaps after the driver's last look: look once more now it is free.
        // Once only: a miss after that is the orphan sweep's (recoverOrphans).
        if (lookAgain && (ran || driver.again) && (await this.midTurn(conversationId, ownerId)))
          this.kick(conversationId, ownerId, { lookAgain: false });
      })(),
    );
  }

  /** Runs the policy's queued training steps, one at a time, after any run already going, where its lease is. */
  kickTraining(policyId: string, ownerId: string, { lookAgain = true }: { lookAgain?: boolean } = {}): void {
    const resource = { kind: "policy", id: policyId } as const;
    void this.track(
      this.runtime.serialise(policyId, async () => {
        const { ran } = await this.leases.run(resource, () => this.hooks.train(this, policyId, ownerId));
        // As for kick: a step another instance queued while this one held the lease.
        if (lookAgain && ran && (await this.stepsWaiting(policyId, ownerId)))
          this.kickTraining(policyId, ownerId, { lookAgain: false });
      }),
    );
  }

  private async midTurn(conversationId: string, ownerId: string): Promise<boolean> {
    const conv = await getConversationForOwner({ db: this.db, id: conversationId, ownerId });
    return conv?.state === "sampling" || conv?.state === "executing";
  }

  private async stepsWaiting(policyId: string, ownerId: string): Promise<boolean> {
    const steps = await listTrainingStepsByOwner({ db: this.db, ownerId, policyId });
    return steps.some((s) => s.status === "queued") && !steps.some((s) => s.status === "running");
  }

  /** Resolves once no driver or training run of this process has work left. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
