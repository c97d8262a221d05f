import { join } from "node:path";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ApprovalLog } from "./approval/log.js";
import { Approvals } from "./approval/service.js";
import { loadConfig, type GatewayConfig } from "./config.js";
import { announceUntested, CliProbe } from "./process/cli-probe.js";
import { HelperSpawner } from "./process/spawner.js";
import { PROVIDERS } from "./providers/index.js";
import { hostIdentity } from "./host.js";
import { JobManager } from "./jobs/manager.js";
import { createLogger, type Logger } from "./log.js";
import { createMcpServer, type ServerParts } from "./mcp/server.js";
import { Pipeline } from "./pipeline/index.js";
import { Orchestrator } from "./orchestrate/index.js";
import { Resilience } from "./resilience.js";
import { narrowTree } from "./store/private-files.js";
import { JobStore } from "./store/jobs.js";
import { OutputWriter } from "./store/output-writer.js";
import { Recorder } from "./recorder/writer.js";
import { gatewayLocation, openGatewayStore, type GatewayLocation } from "./store/open.js";
import type { SqlDb } from "./store/sql.js";
import { SessionStore } from "./store/sessions.js";
import { databaseOpenError, postgresOpenError } from "./startup-error.js";
import type { CallerScope } from "./transport/caller.js";
import { ClientApprovalLog, ClientApprovals } from "./transport/limits.js";

/** The gateway without a transport: what every MCP server (one on stdio, one per HTTP session) shares. */
export interface BuiltGateway {
  config: GatewayConfig;
  logger: Logger;
  parts: ServerParts;
  db: SqlDb;
  /** Stops the jobs and closes the stores; the process exits with `code` (0). */
  shutdown(why: string, code?: number): Promise<void>;
  /** Finds out each CLI's version soon after start (list_models shows it without waiting). */
  probeSoon(): void;
}

/** Builds the gateway (config, stores, jobs, MCP server) and connects it to the transport. */
export async function startGateway(transport: Transport, version: string): Promise<void> {
  const gateway = buildGateway(version);
  const { logger, shutdown } = gateway;
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("end", () => void shutdown("stdin closed"));

  logger.info(`Starting llm-cli-gateway MCP server v${version}`);
  await createMcpServer(gateway.parts, version).connect(transport);
  gateway.probeSoon();
}

/**
 * Config, stores, spawner, job manager, recorder. `scope` (HTTP): the stores, the job manager
 * and the approval step know which client's request they serve; without it, as over stdio.
 */
export function buildGateway(version: string, scope?: CallerScope): BuiltGateway {
  const config = loadConfig();
  const logger = createLogger(config.debug);
  // Owner-only, whatever created the home and its files first (an older version, the umask).
  narrowTree(config.home);
  const where = gatewayLocation(config);
  const db = openGatewayDatabaseAt(where);
  const sessions = new SessionStore(db, scope?.owner);
  const imported = sessions.importLegacyJson(join(config.home, "sessions.json"));
  if (imported)
    logger.info(`Imported ${imported} session(s) from ${join(config.home, "sessions.json")}`);
  const jobStore = new JobStore(db, scope?.owner);
  const output = new OutputWriter(where, jobStore, logger);
  const spawner = new HelperSpawner(logger, { killGraceMs: config.killGraceMs });
  const resilience = new Resilience(config.resilience, logger);
  const approvals = scope
    ? new ClientApprovals(
        config.approvals,
        new ClientApprovalLog(config.approvalLogPath, scope),
        scope,
        jobStore,
      )
    : new Approvals(config.approvals, new ApprovalLog(config.approvalLogPath));
  const recorder = openRecorder(config, logger, version);
  const jobs = new JobManager({
    store: jobStore,
    output,
    logger,
    limits: config.limits,
    retentionMs: config.jobRetentionMs,
    killGraceMs: config.killGraceMs,
    host: hostIdentity(process.env, config.hosts.hostId),
    leaseMs: config.hosts.leaseMs,
    // The calls of a gateway process that died end interrupted in the flight recorder too.
    onPeersDied: () => recorder.markInterrupted(),
  });
  jobs.start();
  const pipeline = new Pipeline({
    config,
    logger,
    sessions,
    spawner,
    approvals,
    resilience,
    recorder,
    jobs,
    clientToken: scope?.owner,
  });
  const probe = new CliProbe(config.childEnv);
  const parts: ServerParts = {
    pipeline,
    jobs,
    jobStore,
    sessions,
    resilience,
    approvals,
    orchestrator: new Orchestrator({
      pipeline,
      jobs,
      store: jobStore,
      path: config.childEnv.PATH ?? "",
    }),
    retentionMs: config.jobRetentionMs,
    probe,
    ...(scope ? { scope } : {}),
  };

  let closing = false;
  const shutdown = async (why: string, code = 0) => {
    if (closing) return;
    closing = true;
    logger.info(`Shutting down (${why}); stopping ${jobs.activeJobs} job(s)`);
    await jobs.stop();
    await output.close();
    spawner.close();
    recorder.close();
    db.close();
    process.exit(code);
  };
  // list_models shows each CLI's version without waiting for it: find them out soon after start
  // (and say on stderr which ones are outside their tested range).
  const probeSoon = () =>
    setTimeout(() => announceUntested(probe, Object.values(PROVIDERS), logger.warn), 2000).unref();
  return { config, logger, parts, db, shutdown, probeSoon };
}

/** The gateway store, or a StartupError that names the file or database, the cause and the fix (never touching a file). */
function openGatewayDatabaseAt(where: GatewayLocation): SqlDb {
  try {
    return openGatewayStore(where);
  } catch (err) {
    if ("postgres" in where) throw postgresOpenError(where.postgres, err);
    throw databaseOpenError(where.sqlite, err);
  }
}

/** The flight recorder; a recorder that cannot open is reported and replaced by none. */
function openRecorder(config: GatewayConfig, logger: Logger, version: string): Recorder {
  const onError = (err: unknown) =>
    logger.warn(`flight recorder: ${err instanceof Error ? err.message : String(err)}`);
  try {
    // PostgreSQL: the recorder's lease is the host's (LLM_GATEWAY_LEASE_MS), so a dead host's
    // calls end interrupted when its jobs do.
    return Recorder.fromConfig(config.recorder, {
      gatewayVersion: version,
      onError,
      leaseMs: config.hosts.leaseMs,
    });
  } catch (err) {
    onError(err);
    return Recorder.open(null);
  }
}
