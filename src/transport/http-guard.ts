import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { HttpConfig } from "../config.js";

/** Addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || (isIP(h) === 4 && h.startsWith("127."));
}

/** A JSON-RPC error body (what MCP clients parse) with a message a person understands. */
export function refuse(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * The Host and Origin checks against DNS rebinding: a web page on another site that gets its
 * name resolved to this machine still sends its own name in Host and Origin, and is refused.
 */
export class OriginGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;

  constructor(config: Pick<HttpConfig, "host" | "allowedHosts" | "allowedOrigins">) {
    const bound = config.host.toLowerCase();
    const any = bound === "0.0.0.0" || bound === "::" || bound === "[::]";
    this.hosts = new Set([
      "localhost",
      "127.0.0.1",
      "[::1]",
      ...(any ? [] : [bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound]),
      ...config.allowedHosts,
    ]);
    this.origins = new Set(config.allowedOrigins.map((o) => o.replace(/\/$/, "")));
  }

  /** Why this request is refused, or undefined when Host and Origin are acceptable. */
  problem(req: IncomingMessage): string | undefined {
    const host = req.headers.host;
    if (!host) return "Forbidden: the Host header is missing";
    const name = hostName(host);
    if (!this.hosts.has(name))
      return `Forbidden: Host "${host}" is not accepted (add its name to LLM_GATEWAY_HTTP_ALLOWED_HOSTS)`;
    const origin = req.headers.origin;
    if (origin === undefined) return undefined; // not a browser: nothing to rebind
    if (this.origins.has(origin.toLowerCase())) return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return `Forbidden: Origin "${origin}" is not accepted`;
    }
    if (this.hosts.has(hostName(originHost)) && isLoopback(hostName(originHost))) return undefined;
    return `Forbidden: Origin "${origin}" is not accepted (add it to LLM_GATEWAY_HTTP_ALLOWED_ORIGINS)`;
  }
}

/** The name part of a Host header: `[::1]:8765` → `[::1]`, `example.com:443` → `example.com`. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0]!;
}

export type Body = { ok: true; text: string } | { ok: false; status: 413 | 400; message: string };

/**
 * The request body, up to `max` bytes: a larger one is refused before it is read (by its
 * Content-Length) or as soon as it passes the limit (chunked), never buffered whole.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Body> {
  const tooLarge = (): Body => ({
    ok: false,
    status: 413,
    message: `Payload Too Large: the request body exceeds ${max} bytes (LLM_GATEWAY_MAX_MESSAGE_BYTES)`,
  });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off("data", onData);
        req.pause();
        resolve(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve({ ok: true, text: Buffer.concat(chunks).toString("utf8") }));
    req.on("error", () =>
      resolve({ ok: false, status: 400, message: "The request body was cut off" }),
    );
  });
}
