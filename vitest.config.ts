import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "fast",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          globalSetup: ["test/helpers/pg-global-setup.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "real-cli",
          include: ["test/realcli/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The real CLIs are heavy: one file at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
      {
        test: {
          // npm pack, install and the MCP Bundle: slow, run by .ci/run (npm run test:package).
          name: "package",
          include: ["test/package/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
