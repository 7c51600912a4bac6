// The lines of a socket's byte stream, taken one at a time when the reader is ready for the next (the
// heartbeat and control sockets). Bytes are kept as they came until a newline is among them, so a client
// that sends a line a byte at a time costs one copy of it, not one per byte; a line longer than the
// limit is reported as such instead of being held.

export const TOO_LONG: unique symbol = Symbol("line too long");

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);

export class LineReader {
  /**
   * received and not yet taken, in order: the first part alone (the usual case, a line in one chunk,
   * then nothing left) needs no array; more parts wait in #more
   */
  #first: Buffer | null = null;
  #more: Buffer[] | null = null;
  #bytes = 0;
  /** a newline is among the parts */
  #complete = false;
  #ended = false;

  constructor(private readonly maxLineBytes: number) {}

  /** the writer has said all it will (the connection was half-closed) */
  get ended(): boolean {
    return this.#ended;
  }

  /** bytes received and not yet taken as lines */
  get pendingBytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#first === null) this.#first = chunk;
    else (this.#more ??= []).push(chunk);
    this.#bytes += chunk.length;
    if (!this.#complete && chunk.includes(NEWLINE)) this.#complete = true;
  }

  /**
   * What is still held of `shared` (a read buffer the socket fills again on its next read) is copied: a
   * partial line, usually nothing. Called once the lines of a read have been taken.
   */
  retain(shared: ArrayBufferLike): void {
    if (this.#first !== null && this.#first.buffer === shared) this.#first = Buffer.from(this.#first);
    const more = this.#more;
    if (more !== null) for (let i = 0; i < more.length; i++) if (more[i]!.buffer === shared) more[i] = Buffer.from(more[i]!);
  }

  /** No more bytes will come; a last line without its newline still counts. */
  end(): void {
    this.#ended = true;
  }

  /**
   * The next line, without its newline and undecoded bytes replaced (UTF-8); "" for an empty one; null
   * when none is complete yet (or none is left); TOO_LONG for a line over the limit.
   */
  next(): string | null | typeof TOO_LONG {
    if (!this.#complete && !this.#ended) return this.#bytes > this.maxLineBytes ? TOO_LONG : null;
    if (this.#more !== null && this.#first !== null) {
      this.#first = Buffer.concat([this.#first, ...this.#more]);
      this.#more = null;
    }
    const pending = this.#first ?? EMPTY;
    const nl = this.#complete ? pending.indexOf(NEWLINE) : -1;
    const end = nl >= 0 ? nl : pending.length;
    if (end > this.maxLineBytes) return TOO_LONG;
    if (nl < 0 && end === 0) return null;
    const line = pending.toString("utf8", 0, end);
    if (nl < 0 || nl + 1 === pending.length) {
      this.#first = null;
      this.#bytes = 0;
      this.#complete = false;
      return line;
    }
    const rest = pending.subarray(nl + 1);
    this.#first = rest;
    this.#bytes = rest.length;
    this.#complete = rest.includes(NEWLINE);
    return line;
  }
}
