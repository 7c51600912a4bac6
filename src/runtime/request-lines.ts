// The lines of a request stream, taken one at a time when the reader is ready for the next: bytes are
// kept until then, and a line longer than the limit is reported as such instead of being held.

export const TOO_LONG: unique symbol = Symbol("line too long");

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

export class RequestLines {
  #pending: Buffer = EMPTY;
  #ended = false;

  constructor(private readonly maxLineBytes: number) {}

  /** the writer has said all it will (the connection was half-closed) */
  get ended(): boolean {
    return this.#ended;
  }

  /** bytes received and not yet taken as lines */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  push(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
  }

  /** No more bytes will come; a last line without its newline still counts. */
  end(): void {
    this.#ended = true;
  }

  /** The next line, trimmed; null when none is complete yet (or none is left); TOO_LONG for a line over the limit. */
  next(): string | null | typeof TOO_LONG {
    const nl = this.#pending.indexOf(NEWLINE);
    const end = nl >= 0 ? nl : this.#ended ? this.#pending.length : -1;
    if (end > this.maxLineBytes || (end < 0 && this.#pending.length > this.maxLineBytes)) return TOO_LONG;
    if (end < 0 || (nl < 0 && end === 0)) return null;
    const line = this.#pending.toString("utf8", 0, end).trim();
    this.#pending = nl >= 0 ? this.#pending.subarray(nl + 1) : EMPTY;
    return line;
  }
}
