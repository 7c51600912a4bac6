// A file of the state directory replaced whole or not at all (status.json, children.json): written to
// a temp file beside it, then renamed over it. A write that fails, for a full disk or anything else,
// leaves no temp file behind.
import { randomBytes } from "node:crypto";
import { rename, unlink } from "node:fs/promises";
import { writeNewStateFile } from "./state-dir.js";

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  // the pid and a random part: two writers of one file (a test, a library user) never share a temp file
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeNewStateFile(tmp, data);
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
