// `vigil export` through the real CLI: exit codes, warnings on stderr, -o DIR, invalid manifests,
// and units that systemd itself accepts.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { vigil } from "../support/stack.js";
import { skipVerify, verifyUnits } from "../support/systemd-analyze.js";

const EVERY_KEY = resolve(import.meta.dirname, "../export/fixtures/every-key");

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-export-"));
  await cp(EVERY_KEY, dir, { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stackName = (): string => dir.split("/").at(-1) ?? "";

describe("vigil export", () => {
  it("writes every unit to stdout, each after its name, and the losses to stderr, one line each", async () => {
    const res = await vigil(["export", "systemd"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`# --- ${stackName()}.target\n`);
    expect(res.stdout).toContain(`# --- ${stackName()}-api@.service\n`);
    expect(res.stdout).toMatch(/^ExecStart=\/usr\/bin\/sleep 600$/m);
    const lines = res.stderr.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^warning: [^:]+: \S+ does not map to systemd: /);
    expect(lines).toContain("warning: api: logs.stale_after does not map to systemd: 5m: systemd does not watch output for silence");
  });

  it("writes one file per unit into -o DIR, creating it", async () => {
    const out = join(dir, "units/nested");
    const res = await vigil(["export", "systemd", "-o", out], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("");
    const name = stackName();
    expect((await readdir(out)).sort()).toEqual(
      [`${name}-Spare_Worker.2@.service`, `${name}-api@.service`, `${name}-db.service`, `${name}-migrate.service`, `${name}-report.service`, `${name}.target`].sort(),
    );
    expect(await readFile(join(out, `${name}-migrate.service`), "utf8")).toContain("Type=oneshot\nRemainAfterExit=yes\n");
  });

  it.skipIf(skipVerify)("writes units that systemd-analyze verify accepts (skipped where systemd is not installed)", async () => {
    const out = join(dir, "units");
    expect((await vigil(["export", "systemd", "-o", out], dir)).code).toBe(0);
    const files = (await readdir(out)).map((name) => join(out, name));
    // the template's instances are what run; verifying them checks the template too
    const instances = files.flatMap((file) => (file.endsWith("@.service") ? [file.replace("@.service", "@1.service")] : [file]));
    for (const file of files.filter((file) => file.endsWith("@.service"))) await cp(file, file.replace("@.service", "@1.service"));
    const verified = await verifyUnits(instances);
    expect(verified.problems).toEqual([]);
    expect(verified.code).toBe(0);
  });

  it("writes Kubernetes objects as one YAML stream, or one file per object", async () => {
    const res = await vigil(["export", "kubernetes"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("# --- db-env.configmap.yaml\n---\n");
    expect(res.stderr).toContain("warning: api: replicas does not map to kubernetes: 3: ");
    const out = join(dir, "k8s");
    expect((await vigil(["export", "kubernetes", "-o", out], dir)).code).toBe(0);
    expect(await readdir(out)).toContain("migrate.job.yaml");
  });

  it("refuses an unknown target in one line, with exit 2", async () => {
    const res = await vigil(["export", "nomad"], dir);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe('vigil: unknown export target "nomad"; use systemd or kubernetes\n');
  });

  it("reports an invalid manifest as vigil check does, with exit 2 and nothing written", async () => {
    await writeFile(join(dir, "bad.yaml"), "version: 1\nservices:\n  api:\n    command: sleep 1\n    restart: { polcy: always }\n");
    const out = join(dir, "never");
    const res = await vigil(["export", "systemd", "-f", "bad.yaml", "-o", out], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^bad\.yaml:5:\d+: services\.api\.restart\.polcy: .*did you mean "?policy/m);
    const check = await vigil(["check", "-f", "bad.yaml"], dir);
    expect(res.stderr).toBe(check.stderr);
    await expect(readdir(out)).rejects.toThrow();
  });
});
