import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Most of the suite waits on real processes and timers rather than computing: twice as many
    // workers as cores keeps both cores busy. Test files share a worker's modules (none keeps state
    // across files), which saves loading them once per file.
    maxWorkers: 4,
    isolate: false,
  },
});
