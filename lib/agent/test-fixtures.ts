/**
 * What the agent's tests share: the prompts the test model is taught to answer (a plain reply, a
 * read, a write, a slow bash command, two calls at once — also after one and two nudges), the
 * short system prompt and empty tool list that keep those prompts (and so each training step)
 * small, and the teaching settings. The agent renders exactly these messages when a test sends
 * the same task, so what the model learnt is what it is asked.
 */
import type { AssistantMessage, Message, ToolCall } from "@/lib/chat/types";
import type { TeachSpec } from "./test-model";
import { NUDGE_TEXT } from "./turn";

export const TEST_SYSTEM_PROMPT = "Agent.";
/**
 * The test model is a small random Qwen3 over the full Qwen3 vocabulary, registered with the
 * embedded backend under a Qwen3 family name so it gets the plain Qwen3 renderer (the bundled
 * model's own name implies its trimmed vocabulary).
 */
export const TEST_MODEL_NAME = "Qwen/Qwen3-0.6B";

const system: Message = { role: "system", content: TEST_SYSTEM_PROMPT };
const user = (content: string): Message => ({ role: "user", content });
const call = (name: string, args: Record<string, unknown>): ToolCall => ({ id: "call", name, arguments: args });
const calls = (...toolCalls: ToolCall[]): AssistantMessage => ({ role: "assistant", content: "", toolCalls });

export const TASKS = {
  text: "Say hi",
  read: "Show a.txt",
  write: "Write b.txt",
  slow: "Run slow",
  both: "Do both",
} as const;

export const REPLIES = {
  text: "Hi!",
  read: { name: "read", args: { path: "a.txt" } },
  write: { name: "write", args: { path: "b.txt", content: "bad" } },
  slow: { name: "bash", args: { cmd: "echo x >> ran; sleep 20" } },
} as const;

// Short on purpose (its tokens are trained on three prompts); nudged replies are never run.
const both = calls(call("glob", {}), call("glob", {}));

export const TEACH_SPEC: TeachSpec = {
  modelName: TEST_MODEL_NAME,
  tools: [],
  rank: 8,
  learningRate: 1e-2,
  maxSteps: 150,
  seed: 1,
  examples: [
    { messages: [system, user(TASKS.text)], reply: { role: "assistant", content: REPLIES.text } },
    { messages: [system, user(TASKS.read)], reply: calls(call(REPLIES.read.name, REPLIES.read.args)) },
    { messages: [system, user(TASKS.write)], reply: calls(call(REPLIES.write.name, REPLIES.write.args)) },
    { messages: [system, user(TASKS.slow)], reply: calls(call(REPLIES.slow.name, REPLIES.slow.args)) },
    { messages: [system, user(TASKS.both)], reply: both },
    { messages: [system, user(TASKS.both), user(NUDGE_TEXT)], reply: both },
    { messages: [system, user(TASKS.both), user(NUDGE_TEXT), user(NUDGE_TEXT)], reply: both },
  ],
};
