import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    pool: "forks",
    isolate: true,
    testTimeout: 20_000,
    hookTimeout: 120_000,
    include: ["test/**/*.test.ts"],
    // Integration tests start real servers on loopback; two cores, so keep the fan-out small.
    maxWorkers: 2,
  },
});
