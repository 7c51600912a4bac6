import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, useStacks, waitUntil } from "../support/stack.js";

const stack = useStacks();

/** `vigil` under `ulimit -n LIMIT` (soft and hard: Node cannot raise it again) */
function limited(limit: number): Record<string, string> {
  return { "limited-vigil": `#!/bin/sh\nulimit -n ${limit} || exit 99\nexec "${process.execPath}" "${CLI}" "$@"\n` };
}

function chattyServices(count: number): string {
  const lines = ["version: 1", "services:"];
  for (let i = 1; i <= count; i++) lines.push(`  s${i}:`, `    command: sh -c 'while :; do echo tick; sleep 1; done'`);
  return `${lines.join("\n")}\n`;
}

describe("the open-file limit", () => {
  it("refuses to start under a limit too small for vigil itself, in one line, starting nothing", async () => {
    const s = await stack(
      `
version: 1
services:
  web:
    command: sh -c 'echo started > started.txt; exec sleep 300'
`,
      limited(64),
    );
    s.start([], {}, join(s.dir, "limited-vigil"));
    expect(await s.exited()).toBe(1);
    expect(s.stderr.trim().split("\n")).toHaveLength(1);
    expect(s.stderr).toMatch(/^vigil: the open-file limit is 64 .*needs at least \d+.*ulimit -n/);
    await expect(readFile(join(s.dir, "started.txt"))).rejects.toThrow();
  });

  it("warns when the limit is small for the stack, and status and down still work with 50 chatty services in 128", async () => {
    const s = await stack(chattyServices(50), limited(128));
    const up = s.start([], {}, join(s.dir, "limited-vigil"));
    await waitUntil(() => /supervising 50 services/.test(s.stderr), () => `vigil up to start\n${s.stderr}`);
    expect(s.stderr).toMatch(/warn: the open-file limit is 128, .*50 services need about \d+.*ulimit -n/);
    // let the services run and write their logs for a while (several rounds of output)
    await waitUntil(() => (s.stdout.match(/tick/g) ?? []).length >= 150, () => `output from the services\n${s.stderr}`);
    for (let round = 0; round < 3; round++) {
      const status = await s.run(["status"]);
      expect(status.stderr).toBe("");
      expect(status.code).toBe(0);
      for (let i = 1; i <= 50; i++) expect(status.stdout).toMatch(new RegExp(`^s${i} `, "m"));
    }
    const down = await s.run(["down"], 60_000);
    expect(down.stderr).toBe("");
    expect(down.code).toBe(0);
    expect(await s.exited()).toBe(0);
    expect(up.exitCode).toBe(0);
  });
});
