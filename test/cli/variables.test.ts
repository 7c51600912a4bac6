// ${VAR} in the manifest through the real CLI: check --print, located problems, and a .env edit that
// reaches a running service.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useStacks, vigil, waitUntil } from "../support/stack.js";

const stack = useStacks();

const readText = (path: string): Promise<string> => readFile(path, "utf8").catch(() => "");

describe("variables in the manifest", () => {
  it("check --print shows the manifest as it will run, with the environment over .env and secrets masked", async () => {
    const s = await stack(
      `version: 1
services:
  api:
    command: node api.js --port \${PORT} --token \${API_TOKEN}
    shell: true
    env:
      DB_PASSWORD: hunter2
      URL: http://\${HOST:-localhost}:\${PORT}
      HOME_DIR: $HOME and $\${HOME}
`,
      { ".env": "PORT=8080\nAPI_TOKEN=from-dot-env\n" },
    );
    const res = await vigil(["check", "--print"], s.dir, undefined, { PORT: "3000", API_TOKEN: "t0k3n-from-env" });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`version: 1
services:
  api:
    command: node api.js --port 3000 --token ***
    shell: true
    env:
      DB_PASSWORD: "***"
      URL: http://localhost:3000
      HOME_DIR: $HOME and \${HOME}
`);
    expect(res.stdout).not.toMatch(/t0k3n|hunter2|from-dot-env/);
  });

  it("rejects an unset variable with its file, line and column, and exit 2", async () => {
    const s = await stack("version: 1\nservices:\n  api:\n    command: run --port ${PORT}\n");
    const res = await vigil(["check"], s.dir, undefined, { PORT: "" });
    // set but empty is set: ${PORT} is ""
    expect(res.code).toBe(0);
    const unset = await vigil(["check"], s.dir, undefined, { PORT: undefined });
    expect(unset.code).toBe(2);
    expect(unset.stdout).toBe("");
    expect(unset.stderr).toBe(
      "supervisor.yaml:4:25: services.api.command: variable PORT is not set; set it in the environment or in .env beside the manifest, or give a default: ${PORT:-…}\n",
    );
    const up = await vigil(["up"], s.dir, undefined, { PORT: undefined });
    expect(up.code).toBe(2);
    expect(up.stderr).toBe(unset.stderr);
  });

  it("restarts a service whose value changed in .env, and leaves $VAR to its shell", async () => {
    const s = await stack(
      `version: 1
services:
  greeter:
    command: echo "$GREETING \${WORD}" > greeting.txt; exec sleep 300
    shell: true
    env: { GREETING: "\${WORD}," }
  other:
    command: sleep 301
`,
      { ".env": "WORD=hello\n" },
    );
    s.start([], { WORD: undefined });
    const first = await s.waitFor("greeter", (x) => x.state === "running", "to run");
    const other = await s.waitFor("other", (x) => x.state === "running", "to run");
    const greeting = join(s.dir, "greeting.txt");
    let seen = "";
    const says = (text: string) => async (): Promise<boolean> => (seen = await readText(greeting)) === text;
    await waitUntil(says("hello, hello\n"), () => `greeting.txt: ${seen}`);
    await writeFile(join(s.dir, ".env"), "WORD=bye\n");
    const second = await s.waitFor("greeter", (x) => x.state === "running" && x.pid !== first.pid, "to restart");
    expect(second.last_exit?.reason).toBe("config");
    await waitUntil(says("bye, bye\n"), () => `greeting.txt: ${seen}`);
    expect((await s.service("other"))?.pid).toBe(other.pid);
  });
});
