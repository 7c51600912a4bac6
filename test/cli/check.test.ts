// `vigil check` on nasty files, through the real CLI: exit 2, one FILE:LINE:COL line per problem,
// never an internal error.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vigil } from "../support/stack.js";

const SERVICE = "version: 1\nservices:\n  api:\n    command: node app.js\n";
const bomb = (levels: number): string => {
  const lines = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i <= levels; i++) lines.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(", ")}]`);
  return `version: 1\nlaughs:\n${lines.join("\n")}\nservices:\n  api:\n    command: x\n    depends_on: *l${levels}\n`;
};

const NASTY: Readonly<Record<string, string>> = {
  "odd-shapes.yaml": `${SERVICE}    limits: null\n    probes: { liveness: null }\nhttp: {}\nalerts: [null]\n`,
  "huge-command.yaml": `version: 1\nservices:\n  api:\n    command: ${"a".repeat(10_000_000)}\n`,
  "billion-laughs.yaml": bomb(9),
  "deep.yaml": `version: 1\nservices: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`,
  "too-long.yaml": `${SERVICE}    restart: { backoff: { initial: 30d } }\n    stop: { timeout: ${"9".repeat(400)}h }\n`,
  "unicode.yaml": `\ufeff${SERVICE}    "\u202eevil\u0000": 1\n\tcwd: x\n`,
  "documents.yaml": `${SERVICE}---\n${SERVICE}`,
};

describe("vigil check on nasty files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-check-"));
    for (const [name, text] of Object.entries(NASTY)) await writeFile(join(dir, name), text);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(NASTY))("rejects %s with located problems, one line each, and exit 2", async (name) => {
    const res = await vigil(["check", "-f", name], dir);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).not.toMatch(/internal error|^\s+at /m);
    const lines = res.stderr.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(new RegExp(`^${name.replace(".", "\\.")}:\\d+:\\d+: \\S`));
  });
});
