import { buildGateway } from "../app.js";
import { httpConfigFromEnv } from "../config.js";
import { createMcpServer } from "../mcp/server.js";
import { TokenStore } from "../store/tokens.js";
import { CallerScope } from "./caller.js";
import { serveHttp } from "./http.js";

/** `serve --http`: the gateway, one MCP server per HTTP client session, until SIGINT/SIGTERM. */
export async function startHttpGateway(
  flags: { host?: string; port?: number },
  version: string,
): Promise<void> {
  const httpConfig = httpConfigFromEnv(process.env, flags);
  const scope = new CallerScope();
  const gateway = buildGateway(version, scope);
  const { logger } = gateway;
  const http = await serveHttp(httpConfig, {
    tokens: new TokenStore(gateway.db),
    logger,
    newServer: (caller) => createMcpServer(gateway.parts, version, caller),
  }).catch(async (err: unknown) => {
    logger.error(
      `llm-cli-gateway could not serve HTTP: ${err instanceof Error ? err.message : err}`,
    );
    return gateway.shutdown("could not serve HTTP", 1).then(() => undefined);
  });
  if (!http) return;
  const stop = async (why: string) => {
    await http.close().catch(() => {});
    await gateway.shutdown(why);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  const host = http.host.includes(":") ? `[${http.host}]` : http.host;
  // Supervisors and tests read the address from this line.
  logger.info(
    `llm-cli-gateway v${version} listening on http://${host}:${http.port}/mcp (health: /healthz)`,
  );
  gateway.probeSoon();
}
