#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ApprovalLog } from "./approval/log.js";
import { Approvals } from "./approval/service.js";
import { loadConfig } from "./config.js";
import { Gateway } from "./gateway.js";
import { JobManager } from "./jobs/manager.js";
import { createLogger } from "./log.js";
import { createMcpServer } from "./mcp/server.js";
import { Resilience } from "./resilience.js";
import { openDatabase } from "./store/db.js";
import { JobStore } from "./store/jobs.js";
import { GATEWAY_MIGRATIONS } from "./store/schema.js";
import { SessionStore } from "./store/sessions.js";

const { version } = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === "--version" || arg === "-v") {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (arg === "--help" || arg === "-h") {
    process.stdout.write(
      "Usage: llm-cli-gateway\n\nAn MCP server on stdio. See the README for tools and environment variables.\n",
    );
    return;
  }
  const config = loadConfig();
  const logger = createLogger(config.debug);
  const db = openDatabase(join(config.home, "gateway.db"), GATEWAY_MIGRATIONS);
  const sessions = new SessionStore(db);
  const imported = sessions.importLegacyJson(join(config.home, "sessions.json"));
  if (imported)
    logger.info(`Imported ${imported} session(s) from ${join(config.home, "sessions.json")}`);
  const jobStore = new JobStore(db);
  const resilience = new Resilience(config.resilience, logger);
  const approvals = new Approvals(config.approvals, new ApprovalLog(config.approvalLogPath));
  const jobs = new JobManager({
    gateway: new Gateway({ config, logger, sessions }),
    approvals,
    resilience,
    store: jobStore,
    logger,
    limits: config.limits,
    retentionMs: config.jobRetentionMs,
    killGraceMs: config.killGraceMs,
  });
  jobs.start();
  const server = createMcpServer(
    { jobs, jobStore, sessions, resilience, approvals, retentionMs: config.jobRetentionMs },
    version,
  );

  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    logger.info(`Shutting down (${why}); stopping ${jobs.activeJobs} job(s)`);
    await jobs.stop();
    db.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("end", () => void shutdown("stdin closed"));

  logger.info(`Starting llm-cli-gateway MCP server v${version}`);
  await server.connect(new StdioServerTransport());
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[ERROR] ${new Date().toISOString()} - ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
