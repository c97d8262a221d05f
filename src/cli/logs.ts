import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { gatewayHomeDir } from "../config.js";
import { positiveInt } from "../number-settings.js";
import { recorderLocationFromEnv, type RecorderLocation } from "../recorder/config.js";
import {
  openPostgresLogs,
  openSqliteLogs,
  type CallFilters,
  type CallSummary,
  type LogsReadModel,
} from "../recorder/read-model.js";
import { describeTarget } from "../store/postgres.js";
import { CALL_STATUSES } from "../recorder/types.js";
import { formatCall, formatList, formatUsage } from "./logs-format.js";
import { runDatasette } from "./logs-datasette.js";

/**
 * `llm-cli-gateway logs`: the flight recorder's common look-ups without SQL. The arguments here,
 * the queries in recorder/read-model.ts (logs.db or PostgreSQL's `recorder` schema, read-only),
 * the text in logs-format.ts.
 * Output goes to stdout (this is a command, not the MCP server).
 */

export interface LogsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Terminal width for tables (default: stdout's, else 120). */
  columns?: number;
}

const defaultIo: LogsIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

export const LOGS_USAGE = `Usage:
  llm-cli-gateway logs [filters] [--limit N] [--json]   recent calls, newest first
  llm-cli-gateway logs show <correlationId | consultationId | id> [--json]
                                                        one call in full (every row with that id; every
                                                        call of a consult/review)
  llm-cli-gateway logs search <text> [filters] [--limit N] [--raw] [--json]
                                                        full-text search of ended calls' prompts and responses
  llm-cli-gateway logs usage [--days N] [--by-day] [filters] [--json]
                                                        calls, tokens and cost per CLI and model
  llm-cli-gateway logs datasette [--run] [-- datasette options]
                                                        the Datasette command for logs.db with its metadata
                                                        (prints it; --run runs it)

Filters: --cli claude|codex|gemini  --model ID  --session ID (gateway or CLI session id)
         --status started|completed|failed|canceled|interrupted|rejected  --job ID
Other:   --db PATH  a logs.db file (default: LLM_GATEWAY_LOGS_DB, else PostgreSQL when
                    LLM_GATEWAY_DATABASE_URL is set, else <LLM_GATEWAY_HOME>/logs.db)
         --raw  the search text is an FTS5 query (AND, OR, NOT, "phrases", prefix*; on PostgreSQL
                translated to a tsquery, docs/POSTGRES.md)
Costs marked ~ include estimates from the price table (see docs/SCHEMA.md).
`;

const OPTIONS = {
  cli: { type: "string" },
  model: { type: "string" },
  session: { type: "string" },
  status: { type: "string" },
  job: { type: "string" },
  limit: { type: "string" },
  days: { type: "string" },
  "by-day": { type: "boolean" },
  raw: { type: "boolean" },
  json: { type: "boolean" },
  run: { type: "boolean" },
  db: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const STATUSES: readonly string[] = CALL_STATUSES;

class UsageError extends Error {}

/** Runs `logs …` (argv without the `logs` word). Returns the exit code. */
export async function runLogsCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: LogsIo = defaultIo,
): Promise<number> {
  let logs: LogsReadModel | undefined;
  // `logs | head` closes the pipe early: that is not an error.
  if (io === defaultIo)
    process.stdout.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(LOGS_USAGE);
      return 0;
    }
    const [sub, ...rest] = positionals;
    if (sub !== undefined && !["show", "search", "usage", "datasette"].includes(sub))
      throw new UsageError(`unknown logs command "${sub}"`);

    const where: RecorderLocation | null = values.db
      ? { sqlite: values.db }
      : recorderLocationFromEnv(env, gatewayHomeDir(env));
    if (where === null) {
      io.stderr(
        "The flight recorder is disabled (LLM_GATEWAY_LOGS_DB is empty or none): there are no logs.\n",
      );
      return 1;
    }
    if (sub === "datasette" && "postgres" in where) {
      io.stderr(
        `logs datasette opens a logs.db file; this flight record is in PostgreSQL (${describeTarget(where.postgres.url)}, schema recorder): query it with psql or any PostgreSQL client (docs/POSTGRES.md).\n`,
      );
      return 1;
    }
    const opened = "postgres" in where ? openPostgresLogs(where.postgres) : null;
    if ("postgres" in where ? opened === null : !existsSync(where.sqlite)) {
      // A fresh home: not an error, there is just nothing to show yet.
      io.stderr(
        "postgres" in where
          ? `Nothing recorded yet: no flight recorder tables in PostgreSQL (${describeTarget(where.postgres.url)}, schema recorder).\n`
          : `Nothing recorded yet: no flight recorder database at ${where.sqlite}.\n`,
      );
      if (values.json) io.stdout(sub === "usage" ? '{ "days": 0, "rows": [] }\n' : "[]\n");
      return sub === "show" ? 1 : 0;
    }
    if (sub === "datasette" && "sqlite" in where)
      return await runDatasette(where.sqlite, rest, !!values.run, io);
    logs = opened ?? openSqliteLogs((where as { sqlite: string }).sqlite);
    const filters = filtersOf(values);
    const limit = option(() => positiveInt(values.limit, "--limit")) ?? 20;
    const width = io.columns ?? process.stdout.columns ?? 120;

    switch (sub) {
      case undefined:
        return print(io, values.json, logs.list(filters, limit), (r) => formatList(r, width));
      case "show": {
        if (rest.length !== 1) throw new UsageError("logs show needs one correlation id or row id");
        const rows = logs.show(rest[0]!);
        if (rows.length === 0) {
          io.stderr(`No call with correlation id or row id "${rest[0]}".\n`);
          return 1;
        }
        if (values.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        else io.stdout(rows.map(formatCall).join("\n"));
        return 0;
      }
      case "search": {
        const text = rest.join(" ").trim();
        if (!text) throw new UsageError("logs search needs some text");
        let found: CallSummary[];
        try {
          found = logs.search(text, !!values.raw, filters, limit);
        } catch (err) {
          if ((err as { category?: string }).category === "database_unavailable") throw err;
          io.stderr(
            `Search query not understood by ${logs.searchEngine} (${err instanceof Error ? err.message : String(err)}). Without --raw, words are searched as they are.\n`,
          );
          return 2;
        }
        return print(io, values.json, found, (r) => formatList(r, width, true));
      }
      case "usage": {
        const days = option(() => positiveInt(values.days, "--days")) ?? 30;
        if (filters.session || filters.status || filters.job)
          throw new UsageError("logs usage filters by --cli and --model only");
        const byDay = !!values["by-day"];
        const rows = logs.usage({ days, byDay, cli: filters.cli, model: filters.model });
        if (values.json) io.stdout(`${JSON.stringify({ days, rows }, null, 2)}\n`);
        else io.stdout(formatUsage(rows, days, byDay));
        return 0;
      }
    }
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      io.stderr(`${(err as Error).message}\n\n${LOGS_USAGE}`);
      return 2;
    }
    io.stderr(`logs: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    logs?.close();
  }
}

function filtersOf(v: Record<string, unknown>): CallFilters {
  const status = v.status as string | undefined;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
  return {
    cli: v.cli as string | undefined,
    model: v.model as string | undefined,
    session: v.session as string | undefined,
    status,
    job: v.job as string | undefined,
  };
}

/** The rows as JSON, or as `format` makes them. */
function print<T>(io: LogsIo, json: boolean | undefined, rows: T[], format: (rows: T[]) => string) {
  io.stdout(json ? `${JSON.stringify(rows, null, 2)}\n` : format(rows));
  return 0;
}

/** A bad option value is a usage error (exit 2, with the usage). */
function option<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
