/**
 * Keeps a command's output bounded while it streams: the first and last bytes are kept, the
 * middle is counted and dropped, so 1 GB of output costs a few kilobytes of memory. The caller
 * stops the command once `total` passes its kill threshold.
 */

export class OutputCapture {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  total = 0;

  /** Characters of the final text; bytes kept at each end allow for 4-byte UTF-8 characters. */
  constructor(private readonly maxChars: number) {}

  private get keepBytes(): number {
    return this.maxChars * 4;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.keepBytes) {
      const take = chunk.subarray(0, this.keepBytes - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.subarray(Math.max(0, joined.length - this.keepBytes));
  }

  /** The output as text, at most `maxChars` characters plus a marker saying what was left out. */
  text(): string {
    const headText = Buffer.concat(this.head).toString("utf8");
    const dropped = this.total - this.headBytes - this.tail.length;
    if (dropped === 0) return capChars(headText + this.tail.toString("utf8"), this.maxChars);
    return joinHeadTail(headText, this.tail.toString("utf8"), this.maxChars, `${this.total} bytes`);
  }
}

function joinHeadTail(head: string, tail: string, maxChars: number, size: string): string {
  const half = Math.floor(maxChars / 2);
  const marker = `[... output truncated: ${size} in all; the first and last ${half} characters are shown ...]`;
  return `${head.slice(0, half)}\n\n${marker}\n\n${tail.slice(-half)}`;
}

/** Head + tail of `text` with a marker when it is longer than `maxChars`. */
export function capChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return joinHeadTail(text, text, maxChars, `${text.length} characters`);
}
