/**
 * The database schema: one drizzle table per entity, each followed by its inferred row type.
 * The first four tables are the ones better-auth's drizzle adapter expects (user, session,
 * account, verification), with our `role` on user. Every other row carries `ownerId`, so an
 * ownership check is one `where` away and never a join.
 *
 * Nothing a user did lives only in memory: conversations, every message (with the exact tokens
 * that were sampled and trained on), tool calls and their decisions, corrections, training steps
 * and checkpoints are rows, written before their effect happens.
 *
 * A text column holding a closed set (a state, a status, a kind) takes its values from
 * lib/db/enums.ts through `oneOf`: drizzle types it as the union and a CHECK constraint makes the
 * database refuse anything else, so a bad value fails at the write, not when a reader meets it.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { CallReview } from "@/lib/agent/call-review";
import {
  ADAPTER_VERSION_EVENTS,
  ALLOW_RULE_KINDS,
  CHECKPOINT_KINDS,
  CHECKPOINT_ORIGINS,
  CONVERSATION_EVENT_TYPES,
  CONVERSATION_STATES,
  CORRECTION_KINDS,
  LEASE_KINDS,
  MESSAGE_ROLES,
  POLICY_BACKENDS,
  TOOL_CALL_STATUSES,
  TRAINING_STEP_LOSS_FNS,
  TRAINING_STEP_STATUSES,
  USER_ROLES,
} from "./enums";
import type { MessageMeta } from "./message-meta";

export type { AdapterVersionEvent, CheckpointOrigin, LeaseKind } from "./enums";

const id = () =>
  text("id")
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID());
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
/** A text column typed as one of `values` (its CHECK constraint is `oneOf`'s). */
const enumText = <const V extends readonly [string, ...string[]]>(name: string, values: V) =>
  text(name, { enum: values });

/**
 * The CHECK that refuses a value outside `values`, named `<table>_<column>_check` as PostgreSQL
 * names its own. The values are written into the SQL as literals: a constraint takes no parameters
 * (and they are our own constants, never user input).
 */
const oneOf = (table: string, column: AnyPgColumn, values: readonly string[]) =>
  check(`${table}_${column.name}_check`, sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(", "))})`);

const ownerId = () =>
  text("owner_id")
    .notNull()
    .references(() => user.id, { onDelete: "cascade" });

// ---------------------------------------------------------------------------------------------
// Accounts (better-auth)

export const user = pgTable(
  "user",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    email: text("email").notNull().unique(),
    emailVerified: boolean("email_verified").notNull().default(false),
    image: text("image"),
    /** The first account becomes admin. */
    role: enumText("role", USER_ROLES).notNull().default("user"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [oneOf("user", t.role, USER_ROLES)],
);
export type User = typeof user.$inferSelect;

export const session = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    token: text("token").notNull().unique(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
  },
  (t) => [index("session_user_id_idx").on(t.userId)],
);
export type Session = typeof session.$inferSelect;

export const account = pgTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    scope: text("scope"),
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("account_user_id_idx").on(t.userId)],
);
export type Account = typeof account.$inferSelect;

export const verification = pgTable("verification", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
export type Verification = typeof verification.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Settings

/** Instance-wide settings as key → JSON value (e.g. "signup_open" → true). */
export const instanceSetting = pgTable("instance_setting", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: updatedAt(),
});
export type InstanceSetting = typeof instanceSetting.$inferSelect;

/** A user's overrides of the configuration (a partial object of lib/config's schema). */
export const userSetting = pgTable("user_setting", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
  updatedAt: updatedAt(),
});
export type UserSetting = typeof userSetting.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Workspaces and conversations

export const workspace = pgTable(
  "workspace",
  {
    id: id(),
    ownerId: ownerId(),
    name: text("name").notNull(),
    /** Absolute directory the agent may touch, and nothing else. */
    path: text("path").notNull(),
    /** True when the directory was created under the data directory (deleting removes it). */
    managed: boolean("managed").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("workspace_owner_name_idx").on(t.ownerId, t.name)],
);
export type Workspace = typeof workspace.$inferSelect;

export const conversation = pgTable(
  "conversation",
  {
    id: id(),
    ownerId: ownerId(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspace.id, { onDelete: "cascade" }),
    title: text("title").notNull().default("New conversation"),
    /** The agent loop's state. */
    state: enumText("state", CONVERSATION_STATES).notNull().default("idle"),
    /** The original task of the current episode, kept for the SDPO teacher context. */
    task: text("task"),
    policyId: text("policy_id").references(() => policy.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("conversation_owner_idx").on(t.ownerId),
    index("conversation_workspace_idx").on(t.workspaceId),
    oneOf("conversation", t.state, CONVERSATION_STATES),
  ],
);
export type Conversation = typeof conversation.$inferSelect;

export const message = pgTable(
  "message",
  {
    id: id(),
    ownerId: ownerId(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversation.id, { onDelete: "cascade" }),
    /** Position in the conversation, from 0; unique per conversation. */
    seq: integer("seq").notNull(),
    role: enumText("role", MESSAGE_ROLES).notNull(),
    content: text("content").notNull(),
    /** Assistant tool calls as parsed: [{ id, name, arguments }]. */
    toolCalls: jsonb("tool_calls").$type<Array<{ id: string; name: string; arguments: Record<string, unknown> }>>(),
    /** For role "tool": the call this result answers. */
    toolCallId: text("tool_call_id"),
    /** Assistant messages: the exact prompt tokens sampled from, the completion and its log-probs. */
    promptTokens: jsonb("prompt_tokens").$type<number[]>(),
    completionTokens: jsonb("completion_tokens").$type<number[]>(),
    completionLogprobs: jsonb("completion_logprobs").$type<number[]>(),
    /** What kind of row it is and how it was made (lib/db/message-meta.ts: checked when written). */
    meta: jsonb("meta").$type<MessageMeta>(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("message_conversation_seq_idx").on(t.conversationId, t.seq),
    oneOf("message", t.role, MESSAGE_ROLES),
  ],
);
export type Message = typeof message.$inferSelect;

export const toolCall = pgTable(
  "tool_call",
  {
    id: id(),
    ownerId: ownerId(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversation.id, { onDelete: "cascade" }),
    /** The assistant message that proposed the call. */
    messageId: text("message_id")
      .notNull()
      .references(() => message.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    args: jsonb("args").$type<Record<string, unknown>>().notNull(),
    status: enumText("status", TOOL_CALL_STATUSES).notNull().default("proposed"),
    /** Arguments as the user edited them (what actually ran), when edited. */
    editedArgs: jsonb("edited_args").$type<Record<string, unknown>>(),
    /** Why it was auto-approved: "readonly" | "rule:<id>". */
    autoReason: text("auto_reason"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    result: jsonb("result").$type<{ output: string; success: boolean; feedback?: string }>(),
    /** How the reviewer changed the call (rejected hunks, a new path, the resulting diff), when they did. */
    review: jsonb("review").$type<CallReview>(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("tool_call_conversation_idx").on(t.conversationId), oneOf("tool_call", t.status, TOOL_CALL_STATUSES)],
);
export type ToolCall = typeof toolCall.$inferSelect;

export const correction = pgTable(
  "correction",
  {
    id: id(),
    ownerId: ownerId(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversation.id, { onDelete: "cascade" }),
    toolCallId: text("tool_call_id").references(() => toolCall.id, { onDelete: "set null" }),
    /** What was corrected: a denial, an edit, a tool failure, an answer, or an approval's reward (enums.ts). */
    kind: enumText("kind", CORRECTION_KINDS).notNull(),
    text: text("text").notNull(),
    /** The demonstration (the edited call) when the user edited. */
    solution: text("solution"),
    /** The tool's error output when the correction followed a failure. */
    environmentFeedback: text("environment_feedback"),
    trainingStepId: text("training_step_id").references(() => trainingStep.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [index("correction_conversation_idx").on(t.conversationId), oneOf("correction", t.kind, CORRECTION_KINDS)],
);
export type Correction = typeof correction.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Training

/** A user's adapter: base model, backend and where its weights are now. */
export const policy = pgTable(
  "policy",
  {
    id: id(),
    ownerId: ownerId(),
    name: text("name").notNull().default("default"),
    baseModel: text("base_model").notNull(),
    backend: enumText("backend", POLICY_BACKENDS).notNull(),
    loraRank: integer("lora_rank").notNull(),
    /** Optimizer steps the current weights have taken (Adam's count; an undo takes it back). */
    step: integer("step").notNull().default(0),
    /**
     * The newest adapter version's number: every training step, undo, restore and reset makes a
     * new one, numbered on from here and never reused, so it is always the current one.
     */
    version: integer("version").notNull().default(0),
    currentCheckpointId: text("current_checkpoint_id"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex("policy_owner_name_idx").on(t.ownerId, t.name), oneOf("policy", t.backend, POLICY_BACKENDS)],
);
export type Policy = typeof policy.$inferSelect;

export const trainingStep = pgTable(
  "training_step",
  {
    id: id(),
    /** Arrival order: timestamps can tie, this cannot. Steps of one policy run in this order. */
    queueSeq: bigserial("queue_seq", { mode: "number" }).notNull(),
    ownerId: ownerId(),
    policyId: text("policy_id")
      .notNull()
      .references(() => policy.id, { onDelete: "cascade" }),
    conversationId: text("conversation_id").references(() => conversation.id, { onDelete: "set null" }),
    /** The adapter version this produced (set when done): the step axis, never reused. */
    step: integer("step"),
    /** A replay (after an undo) learns again from the corrections of this earlier step. */
    replayOf: text("replay_of"),
    status: enumText("status", TRAINING_STEP_STATUSES).notNull().default("queued"),
    lossFn: enumText("loss_fn", TRAINING_STEP_LOSS_FNS).notNull(),
    /** One flat record with slash keys (sdpo_kl, loss, credit/adv_mean, time/forward_backward…). */
    metrics: jsonb("metrics").$type<Record<string, number>>(),
    error: text("error"),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    index("training_step_policy_idx").on(t.policyId),
    index("training_step_owner_idx").on(t.ownerId),
    index("training_step_status_idx").on(t.status),
    oneOf("training_step", t.status, TRAINING_STEP_STATUSES),
    oneOf("training_step", t.lossFn, TRAINING_STEP_LOSS_FNS),
  ],
);
export type TrainingStep = typeof trainingStep.$inferSelect;

export const checkpoint = pgTable(
  "checkpoint",
  {
    id: id(),
    ownerId: ownerId(),
    policyId: text("policy_id")
      .notNull()
      .references(() => policy.id, { onDelete: "cascade" }),
    /** Optimizer steps the saved weights had taken. */
    step: integer("step").notNull(),
    /** The adapter version whose weights these are (0: saved before versions were numbered). */
    version: integer("version").notNull().default(0),
    /** step: saved after a training step, pruned by retention; manual: saved by the user, kept. */
    origin: enumText("origin", CHECKPOINT_ORIGINS).notNull().default("manual"),
    name: text("name").notNull(),
    /** Where the backend put it: a directory (embedded) or a tinker:// path. */
    path: text("path").notNull(),
    kind: enumText("kind", CHECKPOINT_KINDS).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("checkpoint_policy_idx").on(t.policyId),
    oneOf("checkpoint", t.origin, CHECKPOINT_ORIGINS),
    oneOf("checkpoint", t.kind, CHECKPOINT_KINDS),
  ],
);
export type Checkpoint = typeof checkpoint.$inferSelect;

/**
 * One version of a user's adapter: the timeline correction → step → version. Numbers grow per
 * policy and are never reused; an undo, restore or reset is a new version holding older weights
 * (`sourceVersion`'s), so the step axis never runs backwards. `checkpointId` is where its weights
 * are kept (null: the base model, or weights retention let go).
 */
export const adapterVersion = pgTable(
  "adapter_version",
  {
    id: id(),
    ownerId: ownerId(),
    policyId: text("policy_id")
      .notNull()
      .references(() => policy.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    event: enumText("event", ADAPTER_VERSION_EVENTS).notNull(),
    /** trained: the version it trained from; undo/restore: the version whose weights it took; reset: 0. */
    sourceVersion: integer("source_version").notNull(),
    trainingStepId: text("training_step_id").references(() => trainingStep.id, { onDelete: "set null" }),
    /** For an undo: the trained version it took back. */
    undoneVersion: integer("undone_version"),
    checkpointId: text("checkpoint_id").references(() => checkpoint.id, { onDelete: "set null" }),
    /** Optimizer steps its weights had taken. */
    optimizerStep: integer("optimizer_step").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("adapter_version_policy_number_idx").on(t.policyId, t.number),
    oneOf("adapter_version", t.event, ADAPTER_VERSION_EVENTS),
  ],
);
export type AdapterVersion = typeof adapterVersion.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Approval rules and the event log

/** A user's "always allow" rule: a whole tool, a path pattern, or a bash command prefix. */
export const allowRule = pgTable(
  "allow_rule",
  {
    id: id(),
    ownerId: ownerId(),
    tool: text("tool").notNull(),
    kind: enumText("kind", ALLOW_RULE_KINDS).notNull(),
    /** Glob for path rules; space-separated words for bash prefixes; null for whole-tool rules. */
    pattern: text("pattern"),
    createdAt: createdAt(),
  },
  (t) => [index("allow_rule_owner_idx").on(t.ownerId), oneOf("allow_rule", t.kind, ALLOW_RULE_KINDS)],
);
export type AllowRule = typeof allowRule.$inferSelect;

/** Everything the UI is told about a conversation, in order: replayed after a reconnect. */
export const conversationEvent = pgTable(
  "conversation_event",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    ownerId: ownerId(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversation.id, { onDelete: "cascade" }),
    type: enumText("type", CONVERSATION_EVENT_TYPES).notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("conversation_event_conversation_idx").on(t.conversationId, t.id),
    oneOf("conversation_event", t.type, CONVERSATION_EVENT_TYPES),
  ],
);
export type ConversationEvent = typeof conversationEvent.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Instances

/**
 * Which app instance runs a conversation's agent loop or a policy's training queue. Several
 * instances may share one PostgreSQL database; each of these runs in one of them at a time: the
 * holder renews its lease while it works and deletes it when done, and once a lease has expired
 * (its holder died) another instance takes it over. Times are the database's clock, so instances
 * on machines whose clocks differ still agree on what has expired.
 */
export const lease = pgTable(
  "lease",
  {
    kind: enumText("kind", LEASE_KINDS).notNull(),
    /** The conversation's or the policy's id. */
    resourceId: text("resource_id").notNull(),
    /** The instance that holds it (host, pid and a random part: unique per process). */
    holder: text("holder").notNull(),
    acquiredAt: timestamp("acquired_at", { withTimezone: true }).notNull().defaultNow(),
    renewedAt: timestamp("renewed_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.resourceId] }),
    index("lease_holder_idx").on(t.holder),
    oneOf("lease", t.kind, LEASE_KINDS),
  ],
);
export type Lease = typeof lease.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Rewind

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  fromDriver: (value) => Buffer.from(value),
});

/** File contents a rewind may put back, stored once per owner and content (sha-256). */
export const snapshotBlob = pgTable(
  "snapshot_blob",
  {
    ownerId: ownerId(),
    sha256: text("sha256").notNull(),
    bytes: bytea("bytes").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.sha256] })],
);
export type SnapshotBlob = typeof snapshotBlob.$inferSelect;

/**
 * What one workspace file held just before a tool call (or a rewind) changed it: a blob and the
 * file's mode, or nothing (sha256 null: the file did not exist). Captured before the change runs.
 */
export const fileSnapshot = pgTable(
  "file_snapshot",
  {
    id: id(),
    ownerId: ownerId(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversation.id, { onDelete: "cascade" }),
    /** The call that changed the file; null for a rewind's own before-images. */
    toolCallId: text("tool_call_id").references(() => toolCall.id, { onDelete: "cascade" }),
    /** The rewind that changed the file (its undo puts these back); null for a call's. */
    rewindId: text("rewind_id"),
    /** Workspace-relative, "/"-separated. */
    path: text("path").notNull(),
    sha256: text("sha256"),
    mode: integer("mode"),
    createdAt: createdAt(),
  },
  (t) => [
    index("file_snapshot_conversation_idx").on(t.conversationId),
    index("file_snapshot_rewind_idx").on(t.rewindId),
  ],
);
export type FileSnapshot = typeof fileSnapshot.$inferSelect;
