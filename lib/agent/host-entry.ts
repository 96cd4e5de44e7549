/**
 * A headless agent host: the agent over this process's database (PGlite in CONTINUALCODE_DATA_DIR,
 * or DATABASE_URL) driven by JSON lines on stdin, with every event and every reply written as a
 * JSON line on stdout. The crash-recovery tests run it as a child process and kill it mid-phase;
 * it is also a way to drive the agent without the web server.
 *   run:  node --import tsx lib/agent/host-entry.ts '<options JSON>'
 *   in:   {"id": 1, "op": "sendUserMessage", "input": {...}}   (op: any Agent method, "idle", "exit")
 *   out:  {"kind": "ready"} | {"kind": "event", "event": {...}} | {"kind": "reply", "id", "ok", "result" | "error"}
 * Options: models (name → model directory, served by the embedded engine), statesDir,
 * systemPrompt (fixed text instead of the built one), tools ("all" | "none"), leaseTtlMs (the
 * instance's lease ttl), watchOrphans (take over dead instances' work, as a server does).
 */
import readline from "node:readline";
import { z } from "zod";
import { createDb } from "@/lib/db/client";
import { InstanceLeases } from "@/lib/db/instance-leases";
import { isAppError } from "@/lib/errors";
import { TOOL_SPECS } from "@/lib/tools";
import { createTrainingBackend, operatorBackendConfig } from "@/lib/training";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { Agent } from "./agent";

const optionsSchema = z.strictObject({
  models: z.record(z.string(), z.string()).optional(),
  statesDir: z.string().optional(),
  systemPrompt: z.string().optional(),
  tools: z.enum(["all", "none"]).default("all"),
  leaseTtlMs: z.number().int().positive().optional(),
  watchOrphans: z.boolean().default(false),
});

const commandSchema = z.strictObject({
  id: z.union([z.number(), z.string()]),
  op: z.enum([
    "startConversation",
    "sendUserMessage",
    "resumeConversation",
    "decide",
    "submitFailureCorrection",
    "getConversationView",
    "recoverAll",
    "recoverOrphans",
    "idle",
    "exit",
  ]),
  input: z.unknown().optional(),
});

function write(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const options = optionsSchema.parse(JSON.parse(process.argv[2] ?? "{}"));
  const handle = await createDb({
    url: process.env.DATABASE_URL || undefined,
    dataDir: process.env.CONTINUALCODE_DATA_DIR,
  });
  const backend = options.models
    ? createEmbeddedBackend({
        models: Object.fromEntries(Object.entries(options.models).map(([name, dir]) => [name, { dir }])),
        statesDir: options.statesDir,
        threads: operatorBackendConfig().engineThreads,
      })
    : createTrainingBackend(operatorBackendConfig());
  const fixedPrompt = options.systemPrompt;
  const agent = new Agent({
    db: handle.db,
    backend,
    tools: options.tools === "none" ? [] : TOOL_SPECS,
    ...(fixedPrompt !== undefined ? { systemPrompt: () => fixedPrompt } : {}),
    ...(options.leaseTtlMs !== undefined
      ? { leases: new InstanceLeases({ db: handle.db, ttlMs: options.leaseTtlMs }) }
      : {}),
  });
  if (options.watchOrphans) agent.watchForOrphans();
  agent.core.events.subscribeAll((event) => write({ kind: "event", event }));

  const shutdown = async (code: number) => {
    await agent.idle().catch(() => undefined);
    await backend.close().catch(() => undefined);
    await handle.close().catch(() => undefined);
    process.exit(code);
  };
  // Inputs are passed through unchecked: every Agent entry point parses its own with zod.
  const run = async (op: z.infer<typeof commandSchema>["op"], raw: unknown): Promise<unknown> => {
    const input = raw as never;
    switch (op) {
      case "startConversation":
        return agent.startConversation(input);
      case "sendUserMessage":
        return agent.sendUserMessage(input);
      case "resumeConversation":
        return agent.resumeConversation(input);
      case "decide":
        return agent.decide(input);
      case "submitFailureCorrection":
        return agent.submitFailureCorrection(input);
      case "getConversationView":
        return agent.getConversationView(input);
      case "recoverAll":
        return agent.recoverAll();
      case "recoverOrphans":
        return agent.recoverOrphans();
      case "idle":
        return agent.idle();
      case "exit":
        return null;
      default: {
        const never: never = op;
        throw new Error(`unknown op ${String(never)}`);
      }
    }
  };

  // Commands run in the order they arrive, one at a time, as a person's clicks would.
  let queue: Promise<void> = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      let id: string | number = "?";
      try {
        const command = commandSchema.parse(JSON.parse(line));
        id = command.id;
        const result = await run(command.op, command.input);
        write({ kind: "reply", id, ok: true, result: result ?? null });
        if (command.op === "exit") await shutdown(0);
      } catch (error) {
        write({
          kind: "reply",
          id,
          ok: false,
          error: isAppError(error)
            ? error.toJSON()
            : { message: error instanceof Error ? error.message : String(error) },
        });
      }
    });
  });
  lines.on("close", () => void queue.then(() => shutdown(0)));
  write({ kind: "ready" });
}

main().catch((error: unknown) => {
  write({ kind: "fatal", error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
