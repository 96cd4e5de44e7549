/**
 * How the page shows an assistant reply's raw text (the draft while it streams, a reply that
 * failed to parse): the prose the person reads, and in place of any tool-call markup only that a
 * call is being proposed, with the tool's name once the model has written it. The markup itself
 * (`<tool_call>` JSON or Qwen3.5 XML, with or without its opening tag) is never shown as text.
 */
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "@/lib/chat/tool-call-tags";

export type ReplyDisplay = {
  /** The reply's text before its first tool call (all of it when there is none). */
  prose: string;
  /** A tool call follows the prose; `name` is null until the model has written it. */
  call: { name: string | null } | null;
};

// Where a call starts: its opening tag, or (when the model left the tag out) a line opening
// Qwen3's JSON `{"name": …` or Qwen3.5's `<function=…>`; failing those, a stray closing tag.
const CALL_START = /<tool_call>|(?:^|\n)[ \t]*(?:\{\s*"name"\s*:|<function=)|<\/tool_call>/;
const JSON_NAME = /"name"\s*:\s*"([^"\n]+)"/;
const XML_NAME = /<function=([^>\n]+)>/;

/** How many characters at the end of `text` could be the start of `tag` (a tag still arriving). */
function partialTagAtEnd(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (text.endsWith(tag.slice(0, n))) return n;
  return 0;
}

export function replyDisplay(text: string): ReplyDisplay {
  const start = text.search(CALL_START);
  if (start === -1) {
    const cut = Math.max(partialTagAtEnd(text, TOOL_CALL_OPEN), partialTagAtEnd(text, TOOL_CALL_CLOSE));
    return { prose: text.slice(0, text.length - cut).trimEnd(), call: null };
  }
  const markup = text.slice(start);
  const name = JSON_NAME.exec(markup)?.[1] ?? XML_NAME.exec(markup)?.[1] ?? null;
  return { prose: text.slice(0, start).trimEnd(), call: { name: name?.trim() ?? null } };
}

/** The line a proposing reply shows in place of its markup. */
export function proposingLabel(call: { name: string | null }): string {
  return call.name ? `proposing ${call.name}…` : "proposing a call…";
}
