import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // integration tests run real process trees; two cores are shared between them
    maxWorkers: process.env["CI"] ? 2 : undefined,
  },
});
