import { defineConfig } from "vitest/config";

/** Integration tests of the scripts that run in the Alpine job images: run again under BusyBox (test/support/userland.ts). */
const JOB_SCRIPT_TESTS = [
  "test/postgres/*.integration.test.ts",
  "test/etcd/*.integration.test.ts",
  "test/offsite/*.integration.test.ts",
  "test/mirror/*.integration.test.ts",
];

export default defineConfig({
  test: {
    pool: "forks",
    isolate: true,
    // Sized for a loaded 2-core machine: CRD schema compilation, promtool and real servers run several times slower
    // there than on an idle one (seen: the full-stack promtool suite at 60 s with the load average near 25).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Integration tests start real servers on loopback; two cores, so keep the fan-out small.
    maxWorkers: 2,
    // Tests mirror components/ (test/<area>/); `*.integration.test.ts` start real servers or tools.
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/**/*.integration.test.ts"] },
      },
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.integration.test.ts"], hookTimeout: 600_000 },
      },
      {
        extends: true,
        test: {
          name: "integration-busybox",
          include: JOB_SCRIPT_TESTS,
          hookTimeout: 600_000,
          env: { TEST_USERLAND: "busybox" },
        },
      },
    ],
  },
});
