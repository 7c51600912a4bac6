import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManifestWatcher, type ManifestWatcherOptions } from "../../src/runtime/manifest-watcher.js";
import { FakeClock } from "../support/fake-clock.js";

// above the 100 ms default so that a loaded machine's scheduling gaps do not split one edit in two
const DEBOUNCE_MS = 150;
const DEADLINE_MS = 5_000;

let dir: string;
let manifest: string;
let watcher: ManifestWatcher | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-watch-"));
  manifest = join(dir, "supervisor.yaml");
  await writeFile(manifest, "version: 1\n");
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Counts onChange calls; until(n) resolves once there were n, or fails at the deadline. */
function changeCounter() {
  let count = 0;
  let waiters: { n: number; done: () => void }[] = [];
  return {
    onChange: () => {
      count++;
      waiters = waiters.filter((w) => (count >= w.n ? (w.done(), false) : true));
    },
    count: () => count,
    until: (n: number): Promise<void> =>
      count >= n
        ? Promise.resolve()
        : new Promise<void>((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`onChange was called ${count} times, not ${n}, within ${DEADLINE_MS} ms`)), DEADLINE_MS);
            waiters.push({ n, done: () => (clearTimeout(timer), done()) });
          }),
  };
}

async function startWatcher(options: Partial<ManifestWatcherOptions> & { extraFiles?: () => readonly string[] } = {}) {
  const changes = changeCounter();
  const errors: Error[] = [];
  watcher = new ManifestWatcher({
    manifest,
    extraFiles: () => [],
    debounceMs: DEBOUNCE_MS,
    onChange: changes.onChange,
    onError: (error) => errors.push(error),
    ...options,
  });
  await watcher.start();
  return { changes, errors };
}

/** Nothing more comes: waits out several debounce periods, then counts. */
async function expectNoMoreThan(changes: ReturnType<typeof changeCounter>, n: number, debounceMs = DEBOUNCE_MS): Promise<void> {
  await sleep(3 * debounceMs + 100);
  expect(changes.count()).toBe(n);
}

/** Waits until the watcher has seen an edit (a debounce timer is pending) and nothing more arrives. */
async function settled(clock: FakeClock, quietMs = 300): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  let created = clock.created;
  let quietSince = Date.now();
  while (clock.pending() === 0 || Date.now() - quietSince < quietMs) {
    if (Date.now() > deadline) throw new Error(`the watcher did not settle within ${DEADLINE_MS} ms`);
    await sleep(10);
    if (clock.created !== created) [created, quietSince] = [clock.created, Date.now()];
  }
}

describe("ManifestWatcher", () => {
  it("reports a plain write of the manifest once", async () => {
    const { changes, errors } = await startWatcher();
    await writeFile(manifest, "version: 1\nservices: {}\n");
    await changes.until(1);
    await expectNoMoreThan(changes, 1);
    expect(errors).toEqual([]);
  });

  it("reports an atomic save: a temp file renamed over the manifest", async () => {
    const { changes } = await startWatcher();
    const temp = join(dir, ".supervisor.yaml.tmp-1234");
    await writeFile(temp, "version: 1\n# saved atomically\n");
    await rename(temp, manifest);
    await changes.until(1);
    await expectNoMoreThan(changes, 1);
  });

  it("reports vim's backup-and-swap save", async () => {
    const { changes } = await startWatcher();
    const backup = `${manifest}~`;
    await rename(manifest, backup);
    await writeFile(manifest, "version: 1\n# saved by vim\n");
    await unlink(backup);
    await changes.until(1);
    await expectNoMoreThan(changes, 1);
  });

  it("keeps watching after a save replaced the file", async () => {
    const { changes } = await startWatcher();
    const temp = join(dir, "supervisor.yaml.new");
    await writeFile(temp, "version: 1\n# first\n");
    await rename(temp, manifest);
    await changes.until(1);
    await writeFile(manifest, "version: 1\n# second\n");
    await changes.until(2);
  });

  it("reports a deleted manifest, and again when it is created anew", async () => {
    const { changes } = await startWatcher();
    await unlink(manifest);
    await changes.until(1);
    await writeFile(manifest, "version: 1\n# back\n");
    await changes.until(2);
  });

  it("calls onChange once for a burst of 20 saves, debounceMs after the last event", async () => {
    // the fake clock stands still during the burst, however slowly a loaded machine runs it
    const clock = new FakeClock();
    const { changes } = await startWatcher({ clock });
    for (let i = 0; i < 20; i++) {
      await writeFile(manifest, `version: 1\n# save ${i}\n`);
      await sleep(5);
    }
    await settled(clock);
    expect(clock.created).toBeGreaterThan(1);
    expect(clock.pending()).toBe(1);
    clock.advance(DEBOUNCE_MS - 1);
    expect(changes.count()).toBe(0);
    clock.advance(1);
    expect(changes.count()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it("ignores other files in the manifest's directory", async () => {
    const { changes } = await startWatcher();
    await writeFile(join(dir, "notes.txt"), "hello");
    await writeFile(join(dir, "supervisor.yaml.swp"), "swap");
    await expectNoMoreThan(changes, 0);
  });

  it("reports a change of an env file, also in another directory", async () => {
    const envDir = join(dir, "config");
    await mkdir(envDir);
    const envFile = join(envDir, ".env");
    await writeFile(envFile, "PORT=3000\n");
    const { changes } = await startWatcher({ extraFiles: () => [envFile] });
    await writeFile(envFile, "PORT=3001\n");
    await changes.until(1);
    await expectNoMoreThan(changes, 1);
  });

  it("watches a new env file after refresh(), and forgets one no longer named", async () => {
    const envDir = join(dir, "config");
    await mkdir(envDir);
    const oldEnv = join(dir, "old.env");
    const newEnv = join(envDir, "new.env");
    await writeFile(oldEnv, "A=1\n");
    await writeFile(newEnv, "B=1\n");
    let envFiles = [oldEnv];
    const { changes } = await startWatcher({ extraFiles: () => envFiles });

    await writeFile(newEnv, "B=2\n");
    await expectNoMoreThan(changes, 0);

    envFiles = [newEnv];
    await watcher?.refresh();
    await writeFile(newEnv, "B=3\n");
    await changes.until(1);
    await writeFile(oldEnv, "A=2\n");
    await expectNoMoreThan(changes, 1);
  });

  it("waits for the injected clock: onChange comes debounceMs after the last event", async () => {
    const clock = new FakeClock();
    const { changes } = await startWatcher({ clock });
    await writeFile(manifest, "version: 1\n# edited\n");
    await settled(clock);
    clock.advance(DEBOUNCE_MS - 1);
    expect(changes.count()).toBe(0);
    clock.advance(1);
    expect(changes.count()).toBe(1);
  });

  it("calls nothing after close()", async () => {
    const { changes } = await startWatcher();
    await writeFile(manifest, "version: 1\n# edited\n");
    await watcher?.close();
    await expectNoMoreThan(changes, 0);
  });

  it("refuses a debounce shorter than chokidar's change throttle", () => {
    expect(() => new ManifestWatcher({ manifest, extraFiles: () => [], debounceMs: 20, onChange: () => {} })).toThrow(RangeError);
  });
});
