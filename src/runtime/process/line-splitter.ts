// Splits child output into lines. Newlines are found in the bytes and only complete lines are
// decoded, so a multi-byte character split across chunks decodes whole.
const LF = 0x0a;
const CR = 0x0d;

/** Largest end <= max that does not cut a UTF-8 sequence (when the text is UTF-8 at all). */
function charBoundary(bytes: Buffer, max: number): number {
  let end = max;
  while (end > max - 3 && end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return (bytes[end]! & 0xc0) === 0x80 || end === 0 ? max : end;
}

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** the rest of an over-long line is being dropped, up to its newline */
  private dropping = false;

  /**
   * `onTooLong`: a line over maxLineBytes is dropped whole and told once (a protocol's messages, where a
   * piece of a line is no message); without it, such a line is cut into pieces (output, where every
   * byte is worth keeping)
   */
  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes = 64 * 1024,
    private readonly onTooLong: (() => void) | null = null,
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 4) {
      throw new RangeError(`maxLineBytes must be an integer >= 4, got ${maxLineBytes}`);
    }
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(LF); nl !== -1; nl = chunk.indexOf(LF, start)) {
      if (this.dropping) {
        this.dropping = false;
      } else if (this.pendingBytes === 0) {
        this.emitRange(chunk, start, nl);
      } else {
        this.pending.push(chunk.subarray(start, nl));
        this.emitRange(this.takePending(), 0, undefined);
      }
      start = nl + 1;
    }
    if (start >= chunk.length || this.dropping) return;
    // copied so that a long-lived remainder does not pin the whole chunk
    this.pending.push(Buffer.from(chunk.subarray(start)));
    this.pendingBytes += chunk.length - start;
    if (this.pendingBytes > this.maxLineBytes) this.cutPending();
  }

  /** Emits a final line that had no newline. */
  end(): void {
    this.dropping = false;
    if (this.pendingBytes > 0) this.emitRange(this.takePending(), 0, undefined);
  }

  private takePending(): Buffer {
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return bytes;
  }

  /** An over-long line without its newline yet: emit full pieces, keep the rest pending. */
  private cutPending(): void {
    if (this.onTooLong) {
      this.takePending();
      this.dropping = true;
      return this.onTooLong();
    }
    let bytes = this.takePending();
    while (bytes.length > this.maxLineBytes) {
      const end = charBoundary(bytes, this.maxLineBytes);
      this.onLine(bytes.toString("utf8", 0, end));
      bytes = bytes.subarray(end);
    }
    if (bytes.length > 0) {
      this.pending = [Buffer.from(bytes)];
      this.pendingBytes = bytes.length;
    }
  }

  private emitRange(bytes: Buffer, start: number, endOrUndefined: number | undefined): void {
    let end = endOrUndefined ?? bytes.length;
    if (end > start && bytes[end - 1] === CR) end--;
    if (this.onTooLong && end - start > this.maxLineBytes) return this.onTooLong();
    while (end - start > this.maxLineBytes) {
      const cut = start + charBoundary(bytes.subarray(start, end), this.maxLineBytes);
      this.onLine(bytes.toString("utf8", start, cut));
      start = cut;
    }
    this.onLine(bytes.toString("utf8", start, end));
  }
}
