// Reads a text file, but never more than a bound: a manifest or env file of gigabytes, or one that
// never ends (/dev/zero), is refused after the bound instead of filling the memory. The text must be
// UTF-8: a byte that is not would reach a child's arguments as U+FFFD, not as written.
import { isUtf8 } from "node:buffer";
import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/** A manifest of 30,000 services with ten dependencies each is 7 MB. */
export const MAX_MANIFEST_BYTES = 16 * 2 ** 20;
/** Linux passes at most about 2 MiB of arguments and environment to a program in all. */
export const MAX_ENV_FILE_BYTES = 2 ** 20;

export class FileTooLargeError extends Error {
  override readonly name = "FileTooLargeError";

  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes (${maxBytes / 2 ** 20} MiB), the most vigil reads`);
  }
}

/** Where a file stops being UTF-8: its line and column (1-based, in characters), and the byte there. */
export class NotUtf8Error extends Error {
  override readonly name = "NotUtf8Error";

  constructor(
    readonly line: number,
    readonly col: number,
    readonly byte: number,
  ) {
    super(`byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")} is not UTF-8 text (save the file as UTF-8)`);
  }
}

/** The bytes as text; a NotUtf8Error at the first byte that is not UTF-8. */
export function utf8Text(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString("utf8");
  // isUtf8 said no, so there is such a byte; the bound only keeps a disagreement from reading past the end
  const at = Math.min(invalidUtf8At(bytes), bytes.length - 1);
  // (lastIndexOf counts a negative offset from the end)
  const lineStart = at === 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < at; i = bytes.indexOf(0x0a, i + 1)) line++;
  const col = bytes.subarray(lineStart, at).toString("utf8").length + 1;
  throw new NotUtf8Error(line, col, bytes[at]!);
}

/** The offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629); the length when all do. */
export function invalidUtf8At(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (more < 0) return i;
    for (let k = 1; k <= more; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    const next = b[i + 1] ?? 0;
    // overlong forms, UTF-16 surrogates, beyond U+10FFFF
    if ((c === 0xe0 && next < 0xa0) || (c === 0xed && next > 0x9f) || (c === 0xf0 && next < 0x90) || (c === 0xf4 && next > 0x8f)) return i;
    i += more + 1;
  }
  return b.length;
}

const CHUNK_BYTES = 64 * 1024;

export async function readBounded(path: string, maxBytes: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return utf8Text(Buffer.concat(chunks));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
}

export function readBoundedSync(path: string, maxBytes: number): string {
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      const bytesRead = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return utf8Text(Buffer.concat(chunks));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    closeSync(fd);
  }
}
