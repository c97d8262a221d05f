import { parseArgs } from "node:util";
import { APPROVAL_POLICIES, type ApprovalPolicy } from "../approval/policy.js";
import { loadConfig } from "../config.js";
import { parseSubcommand, stdio, usageError, type CommandIo } from "./io.js";
import { CLI_NAMES, type CliName } from "../providers/types.js";
import { gatewayLocation, openGatewayStore } from "../store/open.js";
import { TOKEN_NAME, TokenStore, type TokenRecord } from "../store/tokens.js";

export const TOKEN_USAGE = `Usage:
  llm-cli-gateway token create --name NAME [--clis claude,codex,gemini] [--max-policy strict|balanced|permissive] [--concurrency N]
      a bearer token for HTTP clients, printed once (only its SHA-256 is stored, in gateway.db)
      --clis         the CLIs it may use (default: all)
      --max-policy   the most permissive approval policy its requests may run under; its requests
                     then always run mcp_managed (default: any, legacy included)
      --concurrency  its requests queued or running at once (default: the gateway's limits)
  llm-cli-gateway token list [--json]     names and limits (never the tokens)
  llm-cli-gateway token revoke NAME       refused from the next request on, also by a running gateway
`;

/** `llm-cli-gateway token ...`; returns the exit code (2: usage error, 1: failure). */
export function runTokenCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CommandIo = stdio,
): number {
  const command = { name: "token", usage: TOKEN_USAGE };
  const usage = usageError(command, io);
  const parsed = parseSubcommand(command, io, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: "string" },
        clis: { type: "string" },
        "max-policy": { type: "string" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }),
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (action === undefined) return usage("create, list or revoke?");
  const config = loadConfig(env);
  const open = () => {
    const db = openGatewayStore(gatewayLocation(config), "token");
    return { db, tokens: new TokenStore(db) };
  };
  if (action === "create") {
    if (rest.length) return usage(`create: unexpected argument "${rest[0]}"`);
    const name = values.name;
    if (!name) return usage("create: --name is required");
    if (!TOKEN_NAME.test(name))
      return usage(
        `--name must be 1-64 letters, digits, . _ - (not starting with . _ -), got "${name}"`,
      );
    let clis: CliName[] | undefined;
    if (values.clis !== undefined) {
      clis = values.clis.split(",").map((c) => c.trim()) as CliName[];
      const bad = clis.find((c) => !(CLI_NAMES as readonly string[]).includes(c));
      if (bad !== undefined || !clis.length)
        return usage(`--clis must list ${CLI_NAMES.join(", ")}, got "${values.clis}"`);
    }
    const maxPolicy = values["max-policy"];
    if (maxPolicy !== undefined && !(APPROVAL_POLICIES as readonly string[]).includes(maxPolicy))
      return usage(
        `--max-policy must be one of ${APPROVAL_POLICIES.join(", ")}, got "${maxPolicy}"`,
      );
    let concurrency: number | undefined;
    if (values.concurrency !== undefined) {
      concurrency = Number(values.concurrency);
      if (!Number.isSafeInteger(concurrency) || concurrency < 1)
        return usage(`--concurrency must be a positive integer, got "${values.concurrency}"`);
    }
    const { db, tokens } = open();
    try {
      const { token, record } = tokens.create({
        name,
        ...(clis ? { clis } : {}),
        ...(maxPolicy ? { maxPolicy: maxPolicy as ApprovalPolicy } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
      });
      io.stdout(`${token}\n`);
      io.stderr(
        `Token "${record.name}" created (${describe(record)}). It is shown this once: only its hash is kept.\n`,
      );
      return 0;
    } catch (err) {
      io.stderr(`llm-cli-gateway token: ${(err as Error).message}\n`);
      return 1;
    } finally {
      db.close();
    }
  }
  if (action === "list") {
    const { db, tokens } = open();
    try {
      const list = tokens.list();
      if (values.json) io.stdout(JSON.stringify(list, null, 2) + "\n");
      else if (!list.length) io.stderr("No tokens (llm-cli-gateway token create --name NAME)\n");
      else for (const t of list) io.stdout(`${t.name}\t${describe(t)}\tcreated ${t.createdAt}\n`);
      return 0;
    } finally {
      db.close();
    }
  }
  if (action === "revoke") {
    const name = rest[0] ?? values.name;
    if (!name || rest.length > 1) return usage("revoke: give one token name");
    const { db, tokens } = open();
    try {
      if (!tokens.revoke(name)) {
        io.stderr(`llm-cli-gateway token: no token named "${name}" (see token list)\n`);
        return 1;
      }
      io.stderr(`Token "${name}" revoked.\n`);
      return 0;
    } finally {
      db.close();
    }
  }
  return usage(`unknown action "${action}"`);
}

function describe(t: TokenRecord): string {
  return [
    `clis: ${t.clis?.join(",") ?? "all"}`,
    `max policy: ${t.maxPolicy ?? "any"}`,
    `concurrency: ${t.concurrency ?? "gateway limits"}`,
  ].join(", ");
}
