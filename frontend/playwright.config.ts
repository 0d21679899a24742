import { defineConfig } from "@playwright/test";
import os from "node:os";
import path from "node:path";

// ./tripl.sh test picks a free loopback port and a fresh data directory; these defaults serve a manual run.
const port = Number(process.env.TRIPL_E2E_PORT ?? 8765);
const dataDir = process.env.TRIPL_E2E_DATA_DIR ?? path.join(os.tmpdir(), `tripl-e2e-${Date.now()}`);
const server = process.env.TRIPL_E2E_SERVER ?? path.resolve(import.meta.dirname, "../.venv/bin/tripl-server");
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "../tests/e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    browserName: "chromium",
    headless: true,
    viewport: { width: 1440, height: 900 },
    launchOptions: { executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-dev-shm-usage"] },
    trace: "off",
    actionTimeout: 10_000,
    screenshot: "only-on-failure",
  },
  webServer: {
    command: `"${server}" serve --host 127.0.0.1 --port ${port}`,
    url: `${baseURL}/health`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      TRIPL_DATA_DIR: dataDir,
      TRIPL_LOG_LEVEL: "WARNING",
    },
  },
});
