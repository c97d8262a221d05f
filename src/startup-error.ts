import { dirname } from "node:path";
import type { PostgresSettings } from "./store/database-config.js";
import { describeTarget } from "./store/postgres.js";

/**
 * Why the gateway could not start, said so a user can act on it: the file, the cause, the fix.
 * The bin prints it on one stderr line and answers every call with it (see mcp/early-stdio.ts).
 */
export class StartupError extends Error {
  constructor(
    /** The file or directory at fault, when there is one. */
    readonly path: string | undefined,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`${path ? `${path}: ` : ""}${reason}. Fix: ${fix}`);
    this.name = "StartupError";
  }
}

/** Any start-up failure as a StartupError (one thrown as such is kept). */
export function asStartupError(err: unknown): StartupError {
  if (err instanceof StartupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StartupError(undefined, message, "correct the cause above and restart the gateway");
}

const CORRUPT = /^SQLITE_(NOTADB|CORRUPT)/;
const NOT_WRITABLE =
  /^(EACCES|EPERM|EROFS|ENOTDIR|ENOSPC|EDQUOT|SQLITE_(CANTOPEN|READONLY|IOERR|FULL|PERM))/;

/** The failure to open `gateway.db` at `path`, named by what the user can do about it. */
/** PostgreSQL unreachable or refusing at start: which server, why, what to check. */
export function postgresOpenError(settings: PostgresSettings, err: unknown): StartupError {
  const message = err instanceof Error ? err.message : String(err);
  return new StartupError(
    `PostgreSQL ${describeTarget(settings.url)}`,
    `cannot be used (${message})`,
    "check that the server runs and accepts this user (LLM_GATEWAY_DATABASE_URL or the PG* variables), or unset LLM_GATEWAY_DATABASE_URL to use the SQLite files",
  );
}

export function databaseOpenError(path: string, err: unknown): StartupError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const cause = typeof code === "string" ? `${code}: ${message}` : message;
  if (typeof code === "string" && CORRUPT.test(code))
    return new StartupError(
      path,
      `is not a readable SQLite database (${cause})`,
      `the gateway leaves the file as it is: move it aside (mv "${path}" "${path}.broken") to start with a new one, or set LLM_GATEWAY_HOME to another directory`,
    );
  if (typeof code === "string" && NOT_WRITABLE.test(code)) {
    const dir = dirname(path);
    return new StartupError(
      dir,
      `the gateway's state directory cannot be written (${cause})`,
      `make ${dir} writable for this user, or set LLM_GATEWAY_HOME to a writable directory`,
    );
  }
  return new StartupError(path, `cannot be opened (${cause})`, "correct the cause and restart");
}
