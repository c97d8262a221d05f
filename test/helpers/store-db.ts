import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openGatewayStore } from "../../src/store/open.js";
import type { SqlDb } from "../../src/store/sql.js";
import { freshPgDatabase, type Backend } from "./postgres.js";

const opened: { db: SqlDb; dir?: string }[] = [];

/**
 * The gateway store on either backend, migrated as the gateway opens it: a gateway.db in a new
 * temporary directory, or the `gateway` schema of a new PostgreSQL database. Closed (and the
 * directory removed) after the file's tests.
 */
export async function openTestStore(backend: Backend): Promise<SqlDb> {
  if (!opened.length) afterAll(closeOpened);
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-store-"));
    const db = openGatewayStore({ sqlite: join(dir, "gateway.db") });
    opened.push({ db, dir });
    return db;
  }
  const url = await freshPgDatabase();
  const db = openGatewayStore({
    postgres: { url, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 },
  });
  opened.push({ db });
  return db;
}

function closeOpened(): void {
  for (const { db, dir } of opened.splice(0)) {
    db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
