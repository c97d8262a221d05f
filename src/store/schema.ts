import type { Migration } from "./db.js";
import { HOSTS_MIGRATION } from "./host-schema.js";
import { JOB_MIGRATIONS, PARENT_JOB_MIGRATION } from "./jobs.js";
import { SESSION_MIGRATIONS, SESSIONS_ANY_CLI_MIGRATION } from "./session-schema.js";
import { HTTP_CLIENTS_MIGRATION } from "./tokens.js";

/** gateway.db's migrations, in the order they shipped. Append only. */
export const GATEWAY_MIGRATIONS: readonly Migration[] = [
  ...SESSION_MIGRATIONS,
  ...JOB_MIGRATIONS,
  PARENT_JOB_MIGRATION,
  SESSIONS_ANY_CLI_MIGRATION,
  HTTP_CLIENTS_MIGRATION,
  HOSTS_MIGRATION,
];
