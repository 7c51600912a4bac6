import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../../src/runtime/state/atomic-file.js";
import {
  distrust,
  openStateFile,
  openStateFileSync,
  prepareStateDir,
  readStateFile,
  removeLeftoverTemps,
  StateDirError,
  writeNewStateFile,
} from "../../../src/runtime/state/state-dir.js";
import { isRoot, OTHER_UID } from "../../support/root.js";

let root: string;
let stateDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "vigil-statedir-"));
  stateDir = join(root, ".vigil");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const uid = process.geteuid!();

describe("distrust", () => {
  const stats = (over: { uid?: number; mode?: number; link?: boolean; socket?: boolean } = {}) => ({
    uid: over.uid ?? uid,
    mode: over.mode ?? 0o100600,
    isSymbolicLink: () => over.link === true,
    isSocket: () => over.socket === true,
  });

  it("trusts a file of the running user that no one else may write", () => {
    expect(distrust("/s/f", stats({ mode: 0o100644 }))).toBeNull();
  });

  it("names the owner, the mode or the link that makes a file untrustworthy", () => {
    expect(distrust("/s/f", stats({ uid: uid + 1 }))).toBe(`/s/f is owned by uid ${uid + 1}, not by uid ${uid} who runs vigil (remove it, or chown it)`);
    expect(distrust("/s/d", stats({ mode: 0o40775 }))).toMatch(/^\/s\/d is writable by group or others \(mode 0775\)/);
    expect(distrust("/s/l", stats({ link: true }))).toMatch(/^\/s\/l is a symbolic link/);
  });

  it("does not hold a socket's mode against it: the umask's until vigil sets it", () => {
    expect(distrust("/s/control.sock", stats({ mode: 0o140777, socket: true }))).toBeNull();
  });
});

describe("prepareStateDir", () => {
  it("creates the directory and logs/ with mode 0700", async () => {
    await prepareStateDir(stateDir);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, "logs"))).mode & 0o777).toBe(0o700);
  });

  it("tightens a directory of our own that only its owner may write", async () => {
    await mkdir(stateDir, { mode: 0o755 });
    await chmod(stateDir, 0o755);
    await prepareStateDir(stateDir);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
  });

  it("refuses a directory that group or others may write, and leaves its mode as it was", async () => {
    await mkdir(stateDir);
    await chmod(stateDir, 0o770);
    await expect(prepareStateDir(stateDir)).rejects.toThrow(/\.vigil is writable by group or others \(mode 0770\)/);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o770);
  });

  it("refuses a symbolic link among the files, in the directory or in logs/", async () => {
    await mkdir(join(stateDir, "logs"), { recursive: true, mode: 0o700 });
    await symlink("/etc/passwd", join(stateDir, "logs", "api.log"));
    const err = await prepareStateDir(stateDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDirError);
    expect((err as StateDirError).message).toMatch(/logs\/api\.log is a symbolic link/);
    await rm(join(stateDir, "logs", "api.log"));
    await symlink("/etc/passwd", join(stateDir, "status.json"));
    await expect(prepareStateDir(stateDir)).rejects.toThrow(/status\.json is a symbolic link/);
  });

  it("refuses a logs/ that is a file", async () => {
    await mkdir(stateDir, { mode: 0o700 });
    await writeFile(join(stateDir, "logs"), "");
    await expect(prepareStateDir(stateDir)).rejects.toThrow(/logs is not a directory/);
  });

  it.runIf(isRoot)("refuses a directory, or a file in it, that another user owns", async () => {
    await mkdir(stateDir, { mode: 0o700 });
    await chown(stateDir, OTHER_UID, OTHER_UID);
    await expect(prepareStateDir(stateDir)).rejects.toThrow(`${stateDir} is owned by uid ${OTHER_UID}, not by uid 0 who runs vigil`);
    await chown(stateDir, 0, 0);
    await writeFile(join(stateDir, "children.json"), "{}", { mode: 0o600 });
    await chown(join(stateDir, "children.json"), OTHER_UID, OTHER_UID);
    await expect(prepareStateDir(stateDir)).rejects.toThrow(/children\.json is owned by uid 12345/);
  });
});

describe("opening files of the state directory", () => {
  beforeEach(() => prepareStateDir(stateDir));

  it("refuses to open a file through a symbolic link, and writes nothing to its target", async () => {
    const target = join(root, "target.txt");
    await writeFile(target, "untouched\n");
    await symlink(target, join(stateDir, "vigil.log"));
    await expect(openStateFile(join(stateDir, "vigil.log"), "append")).rejects.toThrow(StateDirError);
    expect(() => openStateFileSync(join(stateDir, "vigil.log"), "read")).toThrow(/vigil\.log is a symbolic link/);
    await expect(readStateFile(join(stateDir, "vigil.log"))).rejects.toThrow(StateDirError);
    expect(await readFile(target, "utf8")).toBe("untouched\n");
  });

  it("refuses a file that others may write, and a directory where a file should be", async () => {
    await writeFile(join(stateDir, "status.json"), "{}");
    await chmod(join(stateDir, "status.json"), 0o666);
    await expect(readStateFile(join(stateDir, "status.json"))).rejects.toThrow(/mode 0666/);
    await mkdir(join(stateDir, "events.jsonl"));
    await expect(openStateFile(join(stateDir, "events.jsonl"), "read")).rejects.toThrow(/not a regular file/);
  });

  it.runIf(isRoot)("refuses another user's file", async () => {
    await writeFile(join(stateDir, "vigil.lock"), "{}", { mode: 0o600 });
    await chown(join(stateDir, "vigil.lock"), OTHER_UID, OTHER_UID);
    await expect(readStateFile(join(stateDir, "vigil.lock"))).rejects.toThrow(/owned by uid 12345/);
  });

  it("passes ENOENT through as it is", async () => {
    await expect(readStateFile(join(stateDir, "nothing"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("creates new files with mode 0600, and never over an existing one", async () => {
    await writeNewStateFile(join(stateDir, "a.tmp"), "one");
    expect((await stat(join(stateDir, "a.tmp"))).mode & 0o777).toBe(0o600);
    await expect(writeNewStateFile(join(stateDir, "a.tmp"), "two")).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(join(stateDir, "a.tmp"), "utf8")).toBe("one");
  });

  it("removes the temp files a dead supervisor left, and nothing else", async () => {
    await writeFile(join(stateDir, "status.json.123.tmp"), "");
    await writeFile(join(stateDir, "children.json.123.ab.tmp"), "");
    await writeFile(join(stateDir, "status.json"), "{}");
    // a second vigil's lock candidate, about to be refused
    await writeFile(join(stateDir, "vigil.lock.456.cd.tmp"), "");
    await removeLeftoverTemps(stateDir);
    expect((await readdir(stateDir)).sort()).toEqual(["logs", "status.json", "vigil.lock.456.cd.tmp"]);
  });
});

describe("writeFileAtomic", () => {
  beforeEach(() => prepareStateDir(stateDir));

  it("replaces the file whole, with mode 0600, leaving no temp file", async () => {
    const path = join(stateDir, "status.json");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, "second");
    expect(await readFile(path, "utf8")).toBe("second");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(stateDir)).sort()).toEqual(["logs", "status.json"]);
  });

  it("replaces a symbolic link by the file, never writing through it", async () => {
    const target = join(root, "target.txt");
    await writeFile(target, "untouched\n");
    const path = join(stateDir, "status.json");
    await symlink(target, path);
    await writeFileAtomic(path, "{}");
    expect((await lstat(path)).isFile()).toBe(true);
    expect(await readFile(target, "utf8")).toBe("untouched\n");
  });

  it("leaves no temp file behind when it fails", async () => {
    // a directory where the file should be: the rename fails after the temp file was written
    await mkdir(join(stateDir, "status.json"));
    await expect(writeFileAtomic(join(stateDir, "status.json"), "{}")).rejects.toMatchObject({ code: "EISDIR" });
    expect((await readdir(stateDir)).sort()).toEqual(["logs", "status.json"]);
  });
});
