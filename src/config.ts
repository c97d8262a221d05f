import { readdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { APPROVAL_POLICIES, type ApprovalPolicy } from "./approval/policy.js";
import { DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytesFromEnv } from "./mcp/line-reader.js";
import { gatewayHomeDir } from "./home.js";
import { hostIdFromEnv } from "./host.js";
import { DEFAULT_LEASE_MS } from "./jobs/peer-check.js";
import { postgresFromEnv, type PostgresSettings } from "./store/database-config.js";
import { envPositiveInt, envPositiveNumber } from "./number-settings.js";
import {
  DEFAULT_MAX_AGE_DAYS,
  DEFAULT_MAX_MB,
  recorderConfigFromEnv,
  type RecorderConfig,
} from "./recorder/config.js";

export interface ResilienceConfig {
  /** Whole CLI runs per request, the first included (1 = never retry). */
  maxAttempts: number;
  /** First retry delay; later ones grow exponentially, with jitter, up to 30 s. */
  baseDelayMs: number;
  /** Consecutive transient failures that open a CLI's breaker. */
  breakerThreshold: number;
  /** How long an open breaker refuses requests before one probe may run. */
  breakerCooldownMs: number;
}

export interface ApprovalConfig {
  defaultPolicy: ApprovalPolicy;
  /** Put requests the policy would deny to the person, when the client supports elicitation. */
  elicitation: boolean;
  mcpConfigPath: string;
}

/** Every path and environment variable the gateway reads, in one place. */
export interface GatewayConfig {
  /** State directory (sessions, jobs, logs). `LLM_GATEWAY_HOME`, default `~/.llm-cli-gateway`. */
  home: string;
  debug: boolean;
  /** Wall-clock limit per CLI run. None unless `LLM_GATEWAY_TIMEOUT_MS` is set. */
  timeoutMs: number | undefined;
  /** Cap on one run's stdout plus stderr. `LLM_GATEWAY_MAX_OUTPUT_BYTES`, default 50 MB. */
  maxOutputBytes: number;
  /**
   * Longest JSON-RPC message (one stdin line) read; a longer one is skipped as it arrives and
   * refused. `LLM_GATEWAY_MAX_MESSAGE_BYTES`, default 4 MiB. The bin reads it before this config
   * loads (mcp/line-reader.ts); it is here so every variable is in one place.
   */
  maxMessageBytes: number;
  /** Time between SIGTERM and SIGKILL when a run is stopped. */
  killGraceMs: number;
  /** Jobs running at once in this process, in all and per CLI, and how many may wait. */
  limits: { maxConcurrent: number; maxPerCli: number; maxQueue: number };
  /** How long finished jobs and their output are kept. */
  jobRetentionMs: number;
  resilience: ResilienceConfig;
  approvals: ApprovalConfig;
  /** approvals.jsonl: every approval decision, appended. */
  approvalLogPath: string;
  /** The flight recorder (logs.db): path or null when off, retention, prices. */
  recorder: RecorderConfig;
  /**
   * Where the files of a provider that needs them root-owned (gemini's per-request settings, its MCP
   * servers) may go, in order: only a place that root owns and nobody else can write counts
   * (src/root-owned.ts). `LLM_GATEWAY_GEMINI_SETTINGS_DIR`, default `<home>/run`, then
   * `/run/llm-cli-gateway`.
   */
  rootOwnedRoots: string[];
  /** Environment handed to every CLI: the gateway's own, with PATH extended. */
  childEnv: NodeJS.ProcessEnv;
  /** PostgreSQL for sessions, jobs and the flight record (`LLM_GATEWAY_DATABASE_URL`); null: SQLite. */
  postgres: PostgresSettings | null;
  /**
   * This process among the gateway hosts sharing the store: `LLM_GATEWAY_HOST_ID` (default unique
   * per process) and its lease, `LLM_GATEWAY_LEASE_MS` (docs/POSTGRES.md, "Several hosts").
   */
  hosts: { hostId: string | undefined; leaseMs: number };
}

export const DEFAULT_MAX_OUTPUT_BYTES = 50 * 1024 * 1024;
export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 8765;

/** `serve --http`: where it listens and which Host / Origin headers it accepts. */
export interface HttpConfig {
  host: string;
  port: number;
  /** Host names (without port) accepted besides loopback ones and the bound address. */
  allowedHosts: string[];
  /** Origins (scheme://host[:port]) accepted besides loopback ones. */
  allowedOrigins: string[];
  /** Largest request body; the stdio line limit, LLM_GATEWAY_MAX_MESSAGE_BYTES. */
  maxBodyBytes: number;
}

export function httpConfigFromEnv(
  env: NodeJS.ProcessEnv,
  flags: { host?: string; port?: number } = {},
): HttpConfig {
  const rawPort = env.LLM_GATEWAY_HTTP_PORT;
  let port = flags.port ?? DEFAULT_HTTP_PORT;
  if (flags.port === undefined && rawPort !== undefined && rawPort !== "") {
    port = Number(rawPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`LLM_GATEWAY_HTTP_PORT must be an integer from 0 to 65535, got "${rawPort}"`);
  }
  const list = (raw: string | undefined) =>
    (raw ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
  return {
    host: flags.host ?? (env.LLM_GATEWAY_HTTP_HOST || DEFAULT_HTTP_HOST),
    port,
    allowedHosts: list(env.LLM_GATEWAY_HTTP_ALLOWED_HOSTS),
    allowedOrigins: list(env.LLM_GATEWAY_HTTP_ALLOWED_ORIGINS),
    maxBodyBytes: maxMessageBytesFromEnv(env),
  };
}
const DEFAULT = {
  killGraceMs: 1500,
  maxConcurrent: 8,
  maxPerCli: 4,
  maxQueue: 64,
  jobRetentionHours: 24,
  retryMaxAttempts: 2,
  retryBaseDelayMs: 2000,
  breakerThreshold: 5,
  breakerCooldownMs: 60_000,
} as const;

export interface EnvVarDoc {
  name: string;
  /** As the README shows it. */
  default: string;
  meaning: string;
}

/**
 * Every environment variable the gateway reads: the one list. The README's table is checked
 * against it (test/unit/env-vars.test.ts), so a new variable needs an entry here and a README row.
 */
export const ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: "LLM_GATEWAY_HOME",
    default: "`~/.llm-cli-gateway`",
    meaning: "the gateway's state: `gateway.db` (sessions, jobs), `logs.db`, approvals",
  },
  {
    name: "LLM_GATEWAY_TIMEOUT_MS",
    default: "none",
    meaning: "wall-clock limit for every CLI run (a request's `timeoutMs` wins)",
  },
  {
    name: "LLM_GATEWAY_MAX_OUTPUT_BYTES",
    default: `\`${DEFAULT_MAX_OUTPUT_BYTES}\` (50 MB)`,
    meaning: "cap on one run's output; past it the run stops with `output_overflow`",
  },
  {
    name: "LLM_GATEWAY_MAX_MESSAGE_BYTES",
    default: `\`${DEFAULT_MAX_MESSAGE_BYTES}\` (4 MiB)`,
    meaning:
      "longest JSON-RPC message (stdin line, HTTP body) read; a longer one is refused unread",
  },
  {
    name: "LLM_GATEWAY_KILL_GRACE_MS",
    default: `\`${DEFAULT.killGraceMs}\``,
    meaning: "time between SIGTERM and SIGKILL when the gateway stops a CLI",
  },
  {
    name: "LLM_GATEWAY_MAX_CONCURRENT",
    default: `\`${DEFAULT.maxConcurrent}\``,
    meaning: "jobs running at once in one gateway process",
  },
  {
    name: "LLM_GATEWAY_MAX_CONCURRENT_PER_CLI",
    default: `\`${DEFAULT.maxPerCli}\``,
    meaning: "jobs of one CLI running at once",
  },
  {
    name: "LLM_GATEWAY_MAX_QUEUE",
    default: `\`${DEFAULT.maxQueue}\``,
    meaning: "jobs waiting for a slot; beyond it requests fail with `saturated`",
  },
  {
    name: "LLM_GATEWAY_JOB_RETENTION_HOURS",
    default: `\`${DEFAULT.jobRetentionHours}\``,
    meaning: "how long finished jobs and their output are kept (fractions allowed)",
  },
  {
    name: "LLM_GATEWAY_RETRY_MAX_ATTEMPTS",
    default: `\`${DEFAULT.retryMaxAttempts}\``,
    meaning: "whole CLI runs per request, the first included (`1`: never retry)",
  },
  {
    name: "LLM_GATEWAY_RETRY_BASE_DELAY_MS",
    default: `\`${DEFAULT.retryBaseDelayMs}\``,
    meaning: "first retry delay; later ones grow exponentially with jitter, up to 30 s",
  },
  {
    name: "LLM_GATEWAY_BREAKER_THRESHOLD",
    default: `\`${DEFAULT.breakerThreshold}\``,
    meaning: "consecutive transient failures that open a CLI's circuit breaker",
  },
  {
    name: "LLM_GATEWAY_BREAKER_COOLDOWN_MS",
    default: `\`${DEFAULT.breakerCooldownMs}\``,
    meaning: "how long an open breaker refuses requests before a probe",
  },
  {
    name: "LLM_GATEWAY_APPROVAL_POLICY",
    default: "`balanced`",
    meaning:
      "`mcp_managed` requests' policy when they name none: `strict`, `balanced`, `permissive`",
  },
  {
    name: "LLM_GATEWAY_APPROVAL_ELICITATION",
    default: "off",
    meaning:
      "`1` or `true`: a request the policy would deny is put to the client's user (MCP elicitation)",
  },
  {
    name: "LLM_GATEWAY_MCP_CONFIG",
    default: "`<home>/mcp-servers.json`",
    meaning: "the MCP servers a request may expose to a CLI (`mcpServers`)",
  },
  {
    name: "LLM_GATEWAY_GEMINI_SETTINGS_DIR",
    default: "`<home>/run`, then `/run/llm-cli-gateway`",
    meaning:
      "where gemini's per-request MCP settings go: root-owned all the way up (see Troubleshooting)",
  },
  {
    name: "LLM_GATEWAY_LOGS_DB",
    default: "`<home>/logs.db`",
    meaning: "the flight recorder's database; empty or `none` turns recording off",
  },
  {
    name: "LLM_GATEWAY_LOGS_MAX_AGE_DAYS",
    default: `\`${DEFAULT_MAX_AGE_DAYS}\``,
    meaning: "recorded calls older than this are pruned; `0` keeps them forever",
  },
  {
    name: "LLM_GATEWAY_LOGS_MAX_MB",
    default: `\`${DEFAULT_MAX_MB}\``,
    meaning: "the recorder prunes the oldest calls past this size; `0`: no limit",
  },
  {
    name: "LLM_GATEWAY_PRICES",
    default: "none",
    meaning: "a JSON price file merged over the built-in table for cost estimates",
  },
  {
    name: "LLM_GATEWAY_HTTP_HOST",
    default: `\`${DEFAULT_HTTP_HOST}\``,
    meaning:
      "`serve --http`: the address to bind (`--host` wins); off loopback, tokens are required",
  },
  {
    name: "LLM_GATEWAY_HTTP_PORT",
    default: `\`${DEFAULT_HTTP_PORT}\``,
    meaning: "`serve --http`: the port (`--port` wins; `0`: any free port, printed on stderr)",
  },
  {
    name: "LLM_GATEWAY_HTTP_ALLOWED_HOSTS",
    default: "loopback names and the bound address",
    meaning: "more `Host` names accepted, comma-separated (the name a reverse proxy forwards)",
  },
  {
    name: "LLM_GATEWAY_HTTP_ALLOWED_ORIGINS",
    default: "none",
    meaning: "browser `Origin`s accepted besides loopback ones, comma-separated (`https://host`)",
  },
  {
    name: "LLM_GATEWAY_DATABASE_URL",
    default: "unset (SQLite files in the home)",
    meaning:
      "`postgres://user:pass@host/db` or `env` (the `PG*` variables): sessions, jobs and the flight record in PostgreSQL (docs/POSTGRES.md)",
  },
  {
    name: "LLM_GATEWAY_DATABASE_STATEMENT_TIMEOUT_MS",
    default: "`10000`",
    meaning: "PostgreSQL: longest any one statement may run before it fails",
  },
  {
    name: "LLM_GATEWAY_DATABASE_CONNECT_TIMEOUT_MS",
    default: "`5000`",
    meaning: "PostgreSQL: longest a connection attempt may take (`database_unavailable` after it)",
  },
  {
    name: "LLM_GATEWAY_HOST_ID",
    default: "`<hostname>-<pid>-<random>`",
    meaning:
      "this gateway's id among the hosts sharing one database; a start under an id a live gateway holds is refused",
  },
  {
    name: "LLM_GATEWAY_HOSTNAME",
    default: "the OS host name",
    meaning:
      "the machine's name on sessions: a resume elsewhere checks that the CLI's session files are reachable",
  },
  {
    name: "LLM_GATEWAY_LEASE_MS",
    default: `\`${DEFAULT_LEASE_MS}\``,
    meaning:
      "a gateway whose lease is not refreshed for this long is dead: other hosts end its jobs `interrupted`",
  },
  {
    name: "DEBUG",
    default: "unset",
    meaning: "any value adds `[DEBUG]` lines (the CLI arguments of each run) to the log",
  },
];

// In its own module so the bin can find gateway.db without loading this one (providers, prices).
export { gatewayHomeDir };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const home = env.HOME || homedir();
  const gatewayHome = gatewayHomeDir(env);
  return {
    home: gatewayHome,
    debug: Boolean(env.DEBUG),
    timeoutMs: envPositiveInt(env, "LLM_GATEWAY_TIMEOUT_MS"),
    maxOutputBytes: envPositiveInt(env, "LLM_GATEWAY_MAX_OUTPUT_BYTES") ?? DEFAULT_MAX_OUTPUT_BYTES,
    maxMessageBytes: maxMessageBytesFromEnv(env),
    killGraceMs: envPositiveInt(env, "LLM_GATEWAY_KILL_GRACE_MS") ?? DEFAULT.killGraceMs,
    limits: {
      maxConcurrent: envPositiveInt(env, "LLM_GATEWAY_MAX_CONCURRENT") ?? DEFAULT.maxConcurrent,
      maxPerCli: envPositiveInt(env, "LLM_GATEWAY_MAX_CONCURRENT_PER_CLI") ?? DEFAULT.maxPerCli,
      maxQueue: envPositiveInt(env, "LLM_GATEWAY_MAX_QUEUE") ?? DEFAULT.maxQueue,
    },
    jobRetentionMs:
      (envPositiveNumber(env, "LLM_GATEWAY_JOB_RETENTION_HOURS") ?? DEFAULT.jobRetentionHours) *
      3_600_000,
    approvals: {
      defaultPolicy: approvalPolicy(env.LLM_GATEWAY_APPROVAL_POLICY),
      elicitation:
        env.LLM_GATEWAY_APPROVAL_ELICITATION === "1" ||
        env.LLM_GATEWAY_APPROVAL_ELICITATION === "true",
      mcpConfigPath: env.LLM_GATEWAY_MCP_CONFIG || join(gatewayHome, "mcp-servers.json"),
    },
    approvalLogPath: join(gatewayHome, "approvals.jsonl"),
    recorder: recorderConfigFromEnv(env, gatewayHome),
    resilience: {
      maxAttempts:
        envPositiveInt(env, "LLM_GATEWAY_RETRY_MAX_ATTEMPTS") ?? DEFAULT.retryMaxAttempts,
      baseDelayMs:
        envPositiveInt(env, "LLM_GATEWAY_RETRY_BASE_DELAY_MS") ?? DEFAULT.retryBaseDelayMs,
      breakerThreshold:
        envPositiveInt(env, "LLM_GATEWAY_BREAKER_THRESHOLD") ?? DEFAULT.breakerThreshold,
      breakerCooldownMs:
        envPositiveInt(env, "LLM_GATEWAY_BREAKER_COOLDOWN_MS") ?? DEFAULT.breakerCooldownMs,
    },
    rootOwnedRoots: env.LLM_GATEWAY_GEMINI_SETTINGS_DIR
      ? [absolute(env, "LLM_GATEWAY_GEMINI_SETTINGS_DIR")]
      : [join(gatewayHome, "run"), "/run/llm-cli-gateway"],
    childEnv: { ...env, PATH: extendPath(env.PATH ?? "", home) },
    postgres: postgresFromEnv(env),
    hosts: {
      hostId: hostIdFromEnv(env),
      leaseMs: envPositiveInt(env, "LLM_GATEWAY_LEASE_MS") ?? DEFAULT_LEASE_MS,
    },
  };
}

function approvalPolicy(raw: string | undefined): ApprovalPolicy {
  if (!raw) return "balanced";
  if ((APPROVAL_POLICIES as readonly string[]).includes(raw)) return raw as ApprovalPolicy;
  throw new Error(
    `LLM_GATEWAY_APPROVAL_POLICY must be one of ${APPROVAL_POLICIES.join(", ")}, got "${raw}"`,
  );
}

function absolute(env: NodeJS.ProcessEnv, name: string): string {
  const raw = env[name]!;
  if (!isAbsolute(raw)) throw new Error(`${name} must be an absolute path, got "${raw}"`);
  return raw;
}

/**
 * MCP clients often start servers with a minimal PATH. Append the places the CLIs are usually
 * installed: ~/.local/bin, /usr/local/bin, /usr/bin and every ~/.nvm node version's bin.
 */
export function extendPath(path: string, home: string): string {
  const parts = path.split(delimiter).filter(Boolean);
  const extra = [join(home, ".local", "bin"), "/usr/local/bin", "/usr/bin", ...nvmBins(home)];
  for (const dir of extra) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(delimiter);
}

function nvmBins(home: string): string[] {
  const root = join(home, ".nvm", "versions", "node");
  try {
    return readdirSync(root).map((version) => join(root, version, "bin"));
  } catch {
    return [];
  }
}
