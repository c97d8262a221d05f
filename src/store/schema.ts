import type { Migration } from "./db.js";
import { JOB_MIGRATIONS, PARENT_JOB_MIGRATION } from "./jobs.js";
import { SESSION_MIGRATIONS } from "./sessions.js";
import { HTTP_CLIENTS_MIGRATION } from "./tokens.js";

/** gateway.db's migrations, in the order they shipped. Append only. */
export const GATEWAY_MIGRATIONS: readonly Migration[] = [
  ...SESSION_MIGRATIONS,
  ...JOB_MIGRATIONS,
  PARENT_JOB_MIGRATION,
  HTTP_CLIENTS_MIGRATION,
];
