#!/usr/bin/env node
// The bin. It starts reading stdin at once and answers initialize, ping and tools/list while the
// gateway itself (the MCP SDK, zod, SQLite) loads: see mcp/early-stdio.ts.
import { readFileSync } from "node:fs";
import { EarlyStdioTransport } from "./mcp/early-stdio.js";
import { maxMessageBytesFromEnv } from "./mcp/line-reader.js";
import { asStartupError } from "./startup-error.js";

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
  // Built by scripts/tools-list.mjs at compile time from the same tool definitions.
  const toolsList = JSON.parse(
    readFileSync(new URL("./tools-list.json", import.meta.url), "utf8"),
  ) as unknown;
  const transport = new EarlyStdioTransport(
    version,
    () => toolsList,
    maxMessageBytesFromEnv(process.env),
  );
  transport.listen();
  try {
    const { startGateway } = await import("./app.js");
    await startGateway(transport, version);
  } catch (err) {
    // initialize may have been answered already: stay up and answer every call with the reason,
    // rather than leave the client's calls unanswered; exit 1 when the client goes.
    const failure = asStartupError(err);
    logError(`llm-cli-gateway could not start: ${failure.message}`);
    transport.fail(failure);
    if (process.stdin.readableEnded) process.exit(1);
    process.stdin.on("end", () => process.exit(1));
  }
}

function logError(message: string): void {
  process.stderr.write(`[ERROR] ${new Date().toISOString()} - ${message.replace(/\n/g, " ")}\n`);
}

main().catch((err: unknown) => {
  logError(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
