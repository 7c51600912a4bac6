// The `watch:` adapter: one chokidar watcher per service that has `watch.paths`, made again when its
// watch settings change on reload. Every change that no ignore rule covers is posted to the loop as
// FilesChanged; the debounce, the restart and the loop detection are the core's (core/stack/watch.ts).
import { watch, type FSWatcher } from "chokidar";
import type { Manifest, WatchConfig } from "../../manifest/types.js";
import type { Input } from "../../core/stack/inputs.js";
import { ignoreRules } from "./ignore-rules.js";

interface Watched {
  readonly key: string;
  readonly watcher: FSWatcher;
}

export class ServiceWatchers {
  readonly #byService = new Map<string, Watched>();
  #closed = false;

  constructor(
    private readonly post: (input: Input) => void,
    private readonly onError: (service: string, error: Error) => void,
  ) {}

  /** Watches what `manifest` asks for: new and changed services start, removed ones stop. */
  async configure(manifest: Manifest): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map<string, { config: WatchConfig; cwd: string }>();
    for (const service of manifest.services) if (service.watch) wanted.set(service.name, { config: service.watch, cwd: service.cwd });
    const closing: Promise<void>[] = [];
    for (const [name, watched] of this.#byService) {
      const next = wanted.get(name);
      if (next && keyOf(next.config, next.cwd) === watched.key) {
        wanted.delete(name);
        continue;
      }
      this.#byService.delete(name);
      closing.push(watched.watcher.close());
    }
    await Promise.all(closing);
    await Promise.all([...wanted].map(([name, { config, cwd }]) => this.#start(name, config, cwd)));
  }

  async #start(service: string, config: WatchConfig, cwd: string): Promise<void> {
    const ignored = ignoreRules(config.ignore, cwd);
    const watcher = watch([...config.paths], { ignoreInitial: true, ignored: (path: string) => ignored(path), persistent: true });
    const changed = (path: string): void => {
      if (!this.#closed) this.post({ type: "FilesChanged", service, path });
    };
    watcher.on("add", changed).on("change", changed).on("unlink", changed).on("addDir", changed).on("unlinkDir", changed);
    watcher.on("error", (err) => this.onError(service, err instanceof Error ? err : new Error(String(err))));
    this.#byService.set(service, { key: keyOf(config, cwd), watcher });
    await new Promise<void>((resolve) => watcher.once("ready", resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#byService.values()];
    this.#byService.clear();
    await Promise.all(all.map((w) => w.watcher.close()));
  }
}

function keyOf(config: WatchConfig, cwd: string): string {
  return JSON.stringify([config.paths, config.ignore, cwd]);
}
