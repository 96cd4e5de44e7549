/**
 * The teacher's context: the student's exact prompt messages plus one user message holding the
 * original task, the user's demonstration (an edited call) when there is one, the correction, the
 * tool's error output when the correction followed a tool failure, and the closing instruction.
 * Length is counted in characters of that extra message; trimming takes the task slot first, then
 * the environment output, then the demonstration, and never touches the correction.
 */
import type { Message } from "@/lib/chat/types";
import type { TeacherTemplates } from "./config";

export interface TeacherInput {
  /** What the student saw: system prompt and conversation before the sampled message. */
  promptMessages: Message[];
  /** The original task (the user's request), not whatever user message came last. */
  task: string;
  feedback: string;
  solution?: string;
  environmentFeedback?: string;
}

export interface TeacherContextOptions {
  templates: TeacherTemplates;
  maxRepromptChars: number;
  removeThinkingFromDemonstration: boolean;
  includeEnvironmentFeedback: boolean;
}

const ELLIPSIS = "…";

/** Fills `{name}` placeholders in one pass: values are never themselves searched for placeholders. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? values[name]! : whole));
}

export function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>\s*/g, "");
}

/** Keeps the first `n` characters (the start of a task says what it is). */
function keepHead(text: string, n: number): string {
  if (text.length <= n) return text;
  return n <= 0 ? "" : text.slice(0, Math.max(0, n - 1)) + ELLIPSIS;
}

/** Keeps the last `n` characters (an error's cause is usually at the end of the output). */
function keepTail(text: string, n: number): string {
  if (text.length <= n) return text;
  return n <= 0 ? "" : ELLIPSIS + text.slice(text.length - Math.max(0, n - 1));
}

/** The extra user message, within `maxRepromptChars` wherever the correction alone allows. */
export function buildReprompt(input: Omit<TeacherInput, "promptMessages">, options: TeacherContextOptions): string {
  const t = options.templates;
  let solution = input.solution?.trim() ? input.solution : undefined;
  if (solution !== undefined && options.removeThinkingFromDemonstration) solution = stripThinking(solution);
  const env =
    options.includeEnvironmentFeedback && input.environmentFeedback?.trim() ? input.environmentFeedback : undefined;
  const slots = { task: input.task, solution: solution ?? "", environment: env ?? "" };
  const render = () =>
    fillTemplate(t.reprompt, {
      task: slots.task,
      solution: solution === undefined ? "" : fillTemplate(t.solution, { solution: slots.solution }),
      feedback: fillTemplate(t.feedback, { feedback: input.feedback }),
      environment: env === undefined ? "" : fillTemplate(t.environment, { environment: slots.environment }),
    });
  // Trim in order of expendability; each pass removes exactly the excess from one slot.
  const trims: Array<[keyof typeof slots, (s: string, n: number) => string]> = [
    ["task", keepHead],
    ["environment", keepTail],
    ["solution", keepHead],
  ];
  let text = render();
  for (const [slot, keep] of trims) {
    const excess = text.length - options.maxRepromptChars;
    if (excess <= 0) break;
    slots[slot] = keep(slots[slot], slots[slot].length - excess);
    text = render();
  }
  return text;
}

/** The teacher's messages: the student's prompt plus the reprompt as one more user message. */
export function buildTeacherMessages(input: TeacherInput, options: TeacherContextOptions): Message[] {
  return [...input.promptMessages, { role: "user", content: buildReprompt(input, options) }];
}

/** The original task of a conversation when none was recorded: its first user message. */
export function firstUserMessage(messages: Message[]): string {
  const first = messages.find((m) => m.role === "user");
  return first && first.role === "user" ? first.content : "";
}
