// `vigil install` through the real CLI: the unit it prints, where it writes it, and that it never
// replaces a different unit without --force.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { vigil } from "../support/stack.js";
import { skipVerify, verifyUnits } from "../support/systemd-analyze.js";

const BIN = resolve(import.meta.dirname, "../../bin/vigil");

let dir = "";
let home = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-install-"));
  home = join(dir, "home");
  await mkdir(home);
  await writeFile(join(dir, "supervisor.yaml"), "version: 1\nservices:\n  idle:\n    command: sleep 300\n    stop: { timeout: 100s }\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const name = (): string => `vigil-${dir.split("/").at(-1)}.service`;
const asUser = { HOME: "", XDG_CONFIG_HOME: "" };

describe("vigil install", () => {
  it("--print writes a notify unit with a watchdog that runs vigil up on the manifest's absolute path", async () => {
    const res = await vigil(["install", "--print"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`ExecStart=${BIN} up -f ${dir}/supervisor.yaml\n`);
    expect(res.stdout).toContain(`WorkingDirectory=${dir}\n`);
    for (const line of ["Type=notify", "WatchdogSec=30s", "KillMode=mixed", "Restart=on-failure", "WantedBy=multi-user.target"]) {
      expect(res.stdout).toContain(`\n${line}\n`);
    }
    // the PATH starts where this node is, for bin/vigil and for the services' own `node`
    expect(res.stdout).toContain(`Environment=PATH=${resolve(process.execPath, "..")}:`);
    // vigil stops the services in dependency order: their stop timeouts and a margin
    expect(res.stdout).toContain("TimeoutStopSec=110s\n");
  });

  it("writes a user unit under the user's config and says what to run, without running it", async () => {
    const res = await vigil(["install", "--user"], dir, 20_000, { ...asUser, HOME: home });
    expect(res.code).toBe(0);
    const path = join(home, ".config/systemd/user", name());
    const unit = await readFile(path, "utf8");
    expect(unit).toContain("WantedBy=default.target\n");
    expect(res.stdout).toContain(`wrote ${path}\n`);
    expect(res.stdout).toContain(`systemctl --user daemon-reload && systemctl --user enable --now ${name()}\n`);
    // the same again changes nothing
    const again = await vigil(["install", "--user"], dir, 20_000, { ...asUser, HOME: home });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`unchanged ${path}\n`);
  });

  it("refuses to replace a different unit of that name unless --force", async () => {
    const unitDir = join(home, "config/systemd/user");
    await mkdir(unitDir, { recursive: true });
    await writeFile(join(unitDir, name()), "[Service]\nExecStart=/bin/true\n");
    const env = { ...asUser, HOME: home, XDG_CONFIG_HOME: join(home, "config") };
    const refused = await vigil(["install", "--user"], dir, 20_000, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/exists and is different; --force replaces it/);
    expect(await readFile(join(unitDir, name()), "utf8")).toBe("[Service]\nExecStart=/bin/true\n");
    const forced = await vigil(["install", "--user", "--force"], dir, 20_000, env);
    expect(forced.code).toBe(0);
    expect(await readFile(join(unitDir, name()), "utf8")).toContain("Type=notify");
  });

  it("reports an invalid manifest with exit 2", async () => {
    await writeFile(join(dir, "bad.yaml"), "version: 1\nservices:\n  idle: { comand: sleep 1 }\n");
    const res = await vigil(["install", "--print", "-f", "bad.yaml"], dir);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^bad\.yaml:3:\d+: /m);
  });

  it.skipIf(skipVerify)("writes a unit that systemd-analyze verify accepts (skipped where systemd is not installed)", async () => {
    const res = await vigil(["install", "--print"], dir);
    const path = join(dir, name());
    await writeFile(path, res.stdout);
    const verified = await verifyUnits([path]);
    expect(verified.problems).toEqual([]);
    expect(verified.code).toBe(0);
  });
});
