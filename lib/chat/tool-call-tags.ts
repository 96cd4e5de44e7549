/**
 * The tags around a tool call in both Qwen formats, on their own so the browser (which shows a
 * reply as it streams) reads the same definition the parser does, without the parser's imports.
 */
export const TOOL_CALL_OPEN = "<tool_call>";
export const TOOL_CALL_CLOSE = "</tool_call>";
