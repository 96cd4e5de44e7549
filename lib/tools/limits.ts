/** Limits and checks shared by the file tools and the grep worker (no imports: workers load it alone). */

/** Files larger than this are not read, edited or searched by the file tools (bash can still page them). */
export const MAX_TEXT_BYTES = 2 * 1024 * 1024;
/** As git does: a NUL byte among the first 8000 bytes marks a file as binary. */
const SNIFF_BYTES = 8000;

export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, SNIFF_BYTES).includes(0);
}

/** Lines with their terminators ("a\n", "b\r\n", "last"); an empty file has none. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function stripEol(line: string): string {
  return line.replace(/\r?\n$/, "");
}
