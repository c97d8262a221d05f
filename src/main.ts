#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ApprovalLog } from "./approval/log.js";
import { Approvals } from "./approval/service.js";
import { loadConfig, type GatewayConfig } from "./config.js";
import { Gateway } from "./gateway.js";
import { JobManager } from "./jobs/manager.js";
import { createLogger, type Logger } from "./log.js";
import { createMcpServer } from "./mcp/server.js";
import { Resilience } from "./resilience.js";
import { openDatabase } from "./store/db.js";
import { JobStore } from "./store/jobs.js";
import { GATEWAY_MIGRATIONS } from "./store/schema.js";
import { Recorder } from "./store/recorder.js";
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
  if (arg === "logs") {
    const { runLogsCommand } = await import("./cli/logs.js");
    process.exitCode = await runLogsCommand(process.argv.slice(3), process.env);
    return;
  }
  if (arg === "--help" || arg === "-h") {
    process.stdout.write(
      "Usage: llm-cli-gateway          an MCP server on stdio (see the README)\n       llm-cli-gateway logs     look at the flight recorder (logs --help)\n",
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
  const recorder = openRecorder(config, logger, version);
  const jobs = new JobManager({
    gateway: new Gateway({ config, logger, sessions }),
    approvals,
    recorder,
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
    recorder.close();
    db.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("end", () => void shutdown("stdin closed"));

  logger.info(`Starting llm-cli-gateway MCP server v${version}`);
  await server.connect(new StdioServerTransport());
}

/** The flight recorder; a recorder that cannot open is reported and replaced by none. */
function openRecorder(config: GatewayConfig, logger: Logger, version: string): Recorder {
  const onError = (err: unknown) =>
    logger.warn(`flight recorder: ${err instanceof Error ? err.message : String(err)}`);
  try {
    return Recorder.fromConfig(config.recorder, { gatewayVersion: version, onError });
  } catch (err) {
    onError(err);
    return Recorder.open(null);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[ERROR] ${new Date().toISOString()} - ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
