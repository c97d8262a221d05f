#!/usr/bin/env node
// The bin. It starts reading stdin at once and answers initialize, ping and tools/list while the
// gateway itself (the MCP SDK, zod, SQLite) loads: see mcp/early-stdio.ts.
import { readFileSync } from "node:fs";
import { EarlyStdioTransport } from "./mcp/early-stdio.js";

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
  const transport = new EarlyStdioTransport(version, () => toolsList);
  transport.listen();
  const { startGateway } = await import("./app.js");
  await startGateway(transport, version);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `[ERROR] ${new Date().toISOString()} - ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
