// Reads a text file, but never more than a bound: a manifest or env file of gigabytes, or one that
// never ends (/dev/zero), is refused after the bound instead of filling the memory.
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

const CHUNK_BYTES = 64 * 1024;

export async function readBounded(path: string, maxBytes: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return Buffer.concat(chunks).toString("utf8");
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
      if (bytesRead === 0) return Buffer.concat(chunks).toString("utf8");
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(maxBytes);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    closeSync(fd);
  }
}
