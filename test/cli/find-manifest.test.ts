// Finding the stack without -f: VIGIL_FILE, else supervisor.yaml here or in the nearest directory above.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { useStacks, vigil } from "../support/stack.js";

const stack = useStacks();
const MANIFEST = "version: 1\nservices:\n  api:\n    command: sleep 300\n";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vigil-find-"));
  dirs.push(dir);
  return dir;
}

/** true when no directory from `dir` up to the root holds a supervisor.yaml */
function nothingAbove(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, "supervisor.yaml"))) return false;
    if (dirname(at) === at) return true;
  }
}

describe("finding the stack", () => {
  it("lets `vigil status` in a subdirectory find the running stack above it", async () => {
    const s = await stack(MANIFEST);
    s.start();
    const api = await s.waitFor("api", (x) => x.state === "running", "to run");
    const deep = join(s.dir, "src", "lib");
    await mkdir(deep, { recursive: true });
    const res = await vigil(["status", "--json"], deep);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as { supervisor: { manifest: string }; services: { name: string; pid: number }[] };
    expect(doc.supervisor.manifest).toBe(join(s.dir, "supervisor.yaml"));
    expect(doc.services).toEqual([expect.objectContaining({ name: "api", pid: api.pid })]);
    // through commander too, and for a command that acts
    const restart = await vigil(["restart", "api"], deep);
    expect(restart).toMatchObject({ code: 0, stdout: "vigil: restarted api\n" });
  });

  it("says in one line that no manifest was found, for check (exit 2) and status (exit 1)", async () => {
    const dir = await tempDir();
    expect(nothingAbove(dir), "a supervisor.yaml above the temporary directory").toBe(true);
    const check = await vigil(["check"], dir, undefined, { VIGIL_FILE: "" });
    expect(check).toEqual({
      code: 2,
      stdout: "",
      stderr: `vigil: no supervisor.yaml in ${dir} or any directory above it; name the manifest with -f FILE or VIGIL_FILE\n`,
    });
    const status = await vigil(["status"], dir, undefined, { VIGIL_FILE: "" });
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(check.stderr);
  });

  it("says that a manifest named with -f does not exist, where nothing answers or nothing was ever kept", async () => {
    const dir = await tempDir();
    const missing = join(dir, "nope", "supervisor.yaml");
    for (const args of [["status", "-f", missing], ["stop", "api", "-f", missing], ["reload", "-f", missing]]) {
      const res = await vigil(args, dir);
      expect(res.code, args.join(" ")).toBe(1);
      expect(res.stderr, args.join(" ")).toMatch(new RegExp(`^vigil: no supervisor is running for this stack \\(.*\\); ${missing.replaceAll("/", "\\/")} does not exist\n$`));
    }
    // logs and events read the state directory: an empty answer (exit 0) would hide the mistyped name
    for (const args of [["logs", "--file", missing], ["events", "--file", missing]]) {
      expect(await vigil(args, dir), args.join(" ")).toEqual({
        code: 1,
        stdout: "",
        stderr: `vigil: ${missing} does not exist, nor does a state directory at ${join(dir, "nope", ".vigil")}\n`,
      });
    }
  });

  it("takes VIGIL_FILE over the search, and -f over VIGIL_FILE", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "supervisor.yaml"), MANIFEST);
    await writeFile(join(dir, "other.yaml"), MANIFEST.replace("api", "web"));
    await writeFile(join(dir, "broken.yaml"), "version: 1\n");
    const sub = join(dir, "sub");
    await mkdir(sub);
    expect(await vigil(["check"], sub, undefined, { VIGIL_FILE: "" })).toMatchObject({ code: 0, stdout: "../supervisor.yaml: ok (1 service)\n" });
    expect(await vigil(["check"], sub, undefined, { VIGIL_FILE: "../other.yaml" })).toMatchObject({ code: 0, stdout: "../other.yaml: ok (1 service)\n" });
    const named = await vigil(["check", "-f", "../broken.yaml"], sub, undefined, { VIGIL_FILE: "../other.yaml" });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/^\.\.\/broken\.yaml:1:1: /);
  });
});
