// The state directory holds the lock, the sockets, the record of the processes vigil may signal, and
// files it appends to with the rights of whoever runs it (often root). So it, and everything in it that
// vigil opens, must belong to that user and be writable by nobody else; and no file in it is opened
// through a symbolic link, which another user could have planted to point at a file of theirs or ours.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, stat, statfs, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

export const LOGS_DIR = "logs";

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;
const GROUP_OR_OTHER_WRITE = 0o022;

/** append: a log; read: a record; create: a new file that must not exist yet (a temp file) */
export type OpenHow = "append" | "read" | "create";

const FLAGS: Readonly<Record<OpenHow, number>> = {
  append: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW,
  read: O_RDONLY | O_NOFOLLOW,
  create: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
};

/** A state directory, or a file in it, that vigil must not use; the message is one line. */
export class StateDirError extends Error {
  override readonly name = "StateDirError";
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** The user whose files vigil creates: the effective one. */
function ownUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? 0;
}

/** Why vigil must not use what `st` describes, or null. */
export function distrust(path: string, st: Pick<Stats, "uid" | "mode" | "isSymbolicLink" | "isSocket">, uid = ownUid()): string | null {
  if (st.isSymbolicLink()) return `${path} is a symbolic link, which vigil does not follow in its state directory (remove it)`;
  if (st.uid !== uid) return `${path} is owned by uid ${st.uid}, not by uid ${uid} who runs vigil (remove it, or chown it)`;
  // a socket's mode is the umask's until vigil sets it, and its file is replaced at start anyway
  if (!st.isSocket() && (st.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
    return `${path} is writable by group or others (mode ${mode}), so another user may have planted files in it (remove it, or chmod go-w it)`;
  }
  return null;
}

function refuse(path: string, st: Stats): void {
  const why = distrust(path, st);
  if (why !== null) throw new StateDirError(why, path);
}

/**
 * Creates what is missing of the state directory (0700) and its logs/ and checks what is there: the
 * directory, logs/ and every entry of both must be the running user's own, writable by no one else,
 * and no symbolic links. StateDirError names the first that is not.
 */
export async function prepareStateDir(dir: string): Promise<void> {
  await refuseKernelFs(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // the directory itself may be a link the manifest's author made; what it points to is checked
  refuse(dir, await stat(dir));
  await chmod(dir, 0o700);
  const logs = join(dir, LOGS_DIR);
  await mkdir(logs, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  const logsStat = await lstat(logs);
  refuse(logs, logsStat);
  if (!logsStat.isDirectory()) throw new StateDirError(`${logs} is not a directory`, logs);
  await Promise.all([checkEntries(dir), checkEntries(logs)]);
}

/** statfs(2) types of the kernel's own file systems, where no file can be made */
const KERNEL_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, "/proc (procfs)"],
  [0x62656572, "/sys (sysfs)"],
]);

/**
 * A state directory on /proc or /sys is refused before anything is made: Node's recursive mkdir spins
 * for ever on procfs, which answers ENOENT to every mkdir (a Node bug, seen in Node 20).
 */
async function refuseKernelFs(dir: string): Promise<void> {
  let at = resolve(dir);
  for (;;) {
    const fs = await statfs(at).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" || err.code === "ENOTDIR" ? null : Promise.reject(err)));
    if (fs !== null) {
      const kind = KERNEL_FS.get(fs.type);
      if (kind !== undefined) throw new StateDirError(`${dir} is on ${kind}, where vigil cannot keep files (choose another state_dir)`, dir);
      return;
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}

async function checkEntries(dir: string): Promise<void> {
  const names = await readdir(dir);
  const stats = await Promise.all(names.map((name) => lstat(join(dir, name)).catch(() => null)));
  names.forEach((name, i) => {
    const st = stats[i];
    if (st) refuse(join(dir, name), st);
  });
}

/**
 * Removes the temp files of writes a supervisor that died could not finish; only under the lock. A lock
 * candidate (vigil.lock.PID.TOKEN.tmp) is left alone: it may be a second vigil's, about to be refused.
 */
export async function removeLeftoverTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(".tmp") && !name.startsWith("vigil.lock.")) await unlink(join(dir, name)).catch(() => undefined);
  }
}

function checkOpened(path: string, st: Stats): void {
  refuse(path, st);
  if (!st.isFile()) throw new StateDirError(`${path} is not a regular file`, path);
}

function linkRefused(path: string, err: unknown): unknown {
  // O_NOFOLLOW on a symbolic link fails with ELOOP
  if ((err as NodeJS.ErrnoException).code !== "ELOOP") return err;
  return new StateDirError(`${path} is a symbolic link, which vigil does not follow in its state directory (remove it)`, path);
}

/**
 * Opens a file of the state directory: never through a symbolic link (StateDirError), and only a
 * regular file of the running user that no one else may write (StateDirError). Other errors (ENOENT,
 * EMFILE, ENOSPC) pass through as they are.
 */
export async function openStateFile(path: string, how: OpenHow, mode = 0o600): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, FLAGS[how], mode);
  } catch (err) {
    throw linkRefused(path, err);
  }
  try {
    checkOpened(path, await file.stat());
    return file;
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
}

/** openStateFile for code that must not wait (a journal's last byte at start, a lock at exit). */
export function openStateFileSync(path: string, how: OpenHow, mode = 0o600): number {
  let fd: number;
  try {
    fd = openSync(path, FLAGS[how], mode);
  } catch (err) {
    throw linkRefused(path, err);
  }
  try {
    checkOpened(path, fstatSync(fd));
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The text of a file of the state directory, opened as openStateFile does. */
export async function readStateFile(path: string): Promise<string> {
  const file = await openStateFile(path, "read");
  try {
    return await file.readFile("utf8");
  } finally {
    await file.close();
  }
}

export function readStateFileSync(path: string): string {
  const fd = openStateFileSync(path, "read");
  try {
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** Writes a file that must not exist yet (a temp file, a lock candidate); a file cut short is removed. */
export async function writeNewStateFile(path: string, data: string | Uint8Array): Promise<void> {
  const file = await openStateFile(path, "create");
  try {
    await file.writeFile(data);
    await file.close();
  } catch (err) {
    await file.close().catch(() => undefined);
    // a full disk leaves the file cut short, and nobody else would remove it
    await unlink(path).catch(() => undefined);
    throw err;
  }
}
