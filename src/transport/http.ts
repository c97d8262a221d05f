import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { HttpConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { TokenStore } from "../store/tokens.js";
import type { Caller } from "./caller.js";
import { BoundedEventStore } from "./event-store.js";
import { isLoopback, OriginGuard, readBody, refuse } from "./http-guard.js";

export interface HttpDeps {
  tokens: TokenStore;
  logger: Logger;
  /** A new MCP server for one client session, its tools scoped to `caller`. */
  newServer(caller: Caller | undefined): Server;
}

export interface HttpGateway {
  /** Where it listens (the real port when 0 was asked). */
  port: number;
  host: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  /** The token it was opened with: only that token may use it. */
  client: string | undefined;
  lastSeen: number;
  open: number;
}

/** More open MCP sessions than this: new ones are refused (503) until some end or expire. */
const MAX_SESSIONS = 1000;
/** A session with no request for this long (and no open stream) is closed. */
const SESSION_IDLE_MS = 60 * 60 * 1000;

/**
 * MCP Streamable HTTP at /mcp, one MCP server per client session, and /healthz. Every /mcp
 * request passes, in order: Host and Origin (403), the bearer token (401), the body limit (413);
 * a session is used only with the token that opened it (else 404, like an unknown session).
 */
export async function serveHttp(config: HttpConfig, deps: HttpDeps): Promise<HttpGateway> {
  const { tokens, logger } = deps;
  const loopback = isLoopback(config.host);
  if (!loopback && tokens.count() === 0)
    throw new Error(
      `Refusing to listen on ${config.host}, which is not a loopback address, without authentication: create a token first (llm-cli-gateway token create --name NAME)`,
    );
  const guard = new OriginGuard(config);
  const sessions = new Map<string, Session>();

  /** The caller, or undefined when no token is needed (loopback, none created); null: refused. */
  const authenticate = (req: IncomingMessage): Caller | undefined | null => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return loopback && tokens.count() === 0 ? undefined : null;
    const record = tokens.verify(match[1]!);
    if (!record) return null;
    return {
      name: record.name,
      ...(record.clis ? { clis: record.clis } : {}),
      ...(record.maxPolicy ? { maxPolicy: record.maxPolicy } : {}),
      ...(record.concurrency !== undefined ? { concurrency: record.concurrency } : {}),
    };
  };

  const handleMcp = async (req: IncomingMessage, res: ServerResponse) => {
    const forbidden = guard.problem(req);
    if (forbidden) return refuse(res, 403, forbidden);
    const caller = authenticate(req);
    if (caller === null)
      return refuse(
        res,
        401,
        "Unauthorized: send a valid token as Authorization: Bearer <token> (llm-cli-gateway token create)",
        { "www-authenticate": 'Bearer realm="llm-cli-gateway"' },
      );
    if (!["GET", "POST", "DELETE"].includes(req.method ?? ""))
      return refuse(res, 405, `Method ${req.method} is not allowed on /mcp`, {
        allow: "GET, POST, DELETE",
      });
    let body: unknown;
    if (req.method === "POST") {
      const read = await readBody(req, config.maxBodyBytes);
      if (!read.ok) return refuse(res, read.status, read.message, { connection: "close" });
      try {
        body = JSON.parse(read.text);
      } catch {
        return refuse(res, 400, "Parse error: the request body is not JSON");
      }
    }
    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const session = sessions.get(id);
      // Another token's session is not found, exactly like one that never existed.
      if (!session || session.client !== caller?.name)
        return refuse(res, 404, "Session not found: initialize a new one");
      return serve(session, req, res, body);
    }
    const initializing =
      req.method === "POST" &&
      (Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body));
    if (!initializing)
      return refuse(
        res,
        400,
        "Bad Request: no Mcp-Session-Id header; a session starts with an initialize request",
      );
    if (sessions.size >= MAX_SESSIONS)
      return refuse(res, 503, `Too many open MCP sessions (${MAX_SESSIONS}); try again later`);
    const server = deps.newServer(caller);
    const session: Session = {
      server,
      client: caller?.name,
      lastSeen: Date.now(),
      open: 0,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        eventStore: new BoundedEventStore(),
        onsessioninitialized: (sid) => {
          sessions.set(sid, session);
          logger.info(
            `HTTP session ${sid} opened (${caller ? `token ${caller.name}` : "no token"})`,
          );
        },
        onsessionclosed: (sid) => void end(sid),
      }),
    };
    session.transport.onclose = () => {
      const sid = session.transport.sessionId;
      if (sid && sessions.get(sid) === session) sessions.delete(sid);
    };
    await server.connect(session.transport);
    return serve(session, req, res, body);
  };

  const serve = async (
    session: Session,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ) => {
    session.open++;
    session.lastSeen = Date.now();
    res.on("close", () => {
      session.open--;
      session.lastSeen = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  };

  const end = async (sid: string) => {
    const session = sessions.get(sid);
    if (!session) return;
    sessions.delete(sid);
    logger.info(`HTTP session ${sid} closed`);
    await session.server.close().catch(() => {});
  };

  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const done = (err: unknown) => {
      logger.error(`HTTP ${req.method} ${path}: ${err instanceof Error ? err.message : err}`);
      refuse(res, 500, "Internal error");
    };
    if (path === "/healthz") {
      if (req.method !== "GET" && req.method !== "HEAD")
        return refuse(res, 405, "Method not allowed", { allow: "GET, HEAD" });
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      return res.end(req.method === "HEAD" ? undefined : '{"ok":true}');
    }
    if (path !== "/mcp") return refuse(res, 404, `Not found: ${path} (the MCP endpoint is /mcp)`);
    handleMcp(req, res).catch(done);
  });
  // SSE streams stay open as long as a request runs: no socket timeout of Node's own.
  http.requestTimeout = 0;
  http.headersTimeout = 60_000;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [sid, s] of sessions)
      if (s.open <= 0 && now - s.lastSeen > SESSION_IDLE_MS) void end(sid);
  }, 60_000).unref();

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const address = http.address() as AddressInfo;
  return {
    port: address.port,
    host: config.host,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map(end));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
