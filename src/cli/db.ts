import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import type { PostgresSettings } from "../store/database-config.js";
import { parseSubcommand, stdio, usageError, type CommandIo } from "./io.js";
import { copyRecorderToPostgres } from "../recorder/copy.js";
import { openRecorderDb } from "../recorder/store.js";
import { copyGatewayToPostgres } from "../store/copy.js";
import { describeTarget } from "../store/postgres.js";
import { openGatewayStore } from "../store/open.js";
import type { SqlDb, SqliteDb } from "../store/sql.js";

export const DB_USAGE = `Usage: llm-cli-gateway db copy [--from DIR] [--logs PATH]
  Copies an existing gateway.db (sessions, jobs, job output, tokens) and logs.db (the flight
  record) into the PostgreSQL database of LLM_GATEWAY_DATABASE_URL, once: each into its empty
  schema (gateway, recorder), each in one transaction. Stop the gateways using the files first.
  --from DIR    the gateway home holding gateway.db and logs.db (default: LLM_GATEWAY_HOME)
  --logs PATH   the logs.db to copy, when it is elsewhere (default: DIR/logs.db)
`;

/** `db copy`: exit 0 when everything found was copied, 1 when a copy failed, 2 on bad usage. */
export function runDbCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo = stdio,
): number {
  const command = { name: "db", usage: DB_USAGE };
  const usage = usageError(command, io);
  const parsed = parseSubcommand(command, io, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        from: { type: "string" },
        logs: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }),
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals[0] !== "copy" || positionals.length > 1)
    return usage(positionals.length ? `unknown action "${positionals.join(" ")}"` : "copy?");
  const config = loadConfig(env);
  if (!config.postgres)
    return usage(
      "LLM_GATEWAY_DATABASE_URL is not set: it names the PostgreSQL database to copy into",
    );
  const from = values.from ?? config.home;
  const sources = [
    { file: join(from, "gateway.db"), what: "gateway", copy: copyGateway },
    { file: values.logs ?? join(from, "logs.db"), what: "recorder", copy: copyRecorder },
  ].filter((s) => existsSync(s.file));
  if (!sources.length) {
    io.stderr(`llm-cli-gateway db: neither gateway.db nor logs.db is in ${from}\n`);
    return 1;
  }
  const target = describeTarget(config.postgres.url);
  for (const { file, what, copy } of sources) {
    try {
      const rows = copy(file, config.postgres);
      const counts = Object.entries(rows).map(([table, n]) => `${n} ${table}`);
      io.stdout(`${file} -> ${target} schema ${what}: ${counts.join(", ")}\n`);
    } catch (err) {
      io.stderr(
        `llm-cli-gateway db: ${file} was not copied (nothing of it was written): ${(err as Error).message}\n`,
      );
      return 1;
    }
  }
  return 0;
}

function copyGateway(file: string, postgres: PostgresSettings): Record<string, number> {
  // Opening brings an older file to the current schema first, as a gateway's start would.
  return withBoth(
    openGatewayStore({ sqlite: file }, "copy") as SqliteDb,
    () => openGatewayStore({ postgres }, "copy"),
    copyGatewayToPostgres,
  );
}

function copyRecorder(file: string, postgres: PostgresSettings): Record<string, number> {
  return withBoth(
    openRecorderDb({ sqlite: file }) as SqliteDb,
    () => openRecorderDb({ postgres }),
    copyRecorderToPostgres,
  );
}

/** Reads the source in one read transaction (one consistent snapshot), closes both. */
function withBoth(
  from: SqliteDb,
  openTarget: () => SqlDb,
  copy: (from: SqliteDb, to: SqlDb) => Record<string, number>,
): Record<string, number> {
  let to: SqlDb | undefined;
  try {
    to = openTarget();
    from.handle.exec("BEGIN");
    try {
      return copy(from, to);
    } finally {
      from.handle.exec("COMMIT");
    }
  } finally {
    to?.close();
    from.close();
  }
}
