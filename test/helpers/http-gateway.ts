import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import type { FakeInvocation } from "./fake-lane.js";
import { MAIN } from "./gateway.js";

export interface HttpClient {
  client: Client;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface HttpLane {
  url: string;
  port: number;
  home: string;
  pid: number;
  stderr(): string;
  /** `token create --name NAME [extra flags]` against this gateway's home: the token. */
  createToken(name: string, ...flags: string[]): string;
  /** Runs `llm-cli-gateway token ...` with this gateway's environment. */
  tokenCommand(...args: string[]): { code: number | null; stdout: string; stderr: string };
  connect(token?: string): Promise<HttpClient>;
  invocations(): FakeInvocation[];
  reset(): void;
  close(): Promise<void>;
}

/** `serve --http --port 0` of the built gateway, fake CLIs first on PATH, in a throw-away HOME. */
export async function startHttpLane(
  extraEnv: Record<string, string> = {},
  args: string[] = [],
  options: { fakes?: boolean } = {},
): Promise<HttpLane> {
  const bin = options.fakes === false ? undefined : installFakeClis();
  const home = mkdtempSync(join(tmpdir(), "llm-gateway-http-"));
  const logFile = join(home, "invocations.jsonl");
  const env: NodeJS.ProcessEnv = {
    PATH: bin ? `${bin}:${process.env.PATH}` : (process.env.PATH ?? ""),
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    LLM_GATEWAY_HOME: join(home, ".llm-cli-gateway"),
    FAKE_CLI_LOG: logFile,
    ...extraEnv,
  };
  const tokenCommand = (...a: string[]) => {
    const r = spawnSync(process.execPath, [MAIN, "token", ...a], { env, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [MAIN, "serve", "--http", "--port", "0", ...args],
    { env, cwd: home, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const m = /listening on http:\/\/[^\s]+:(\d+)\/mcp/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => {
      for (const path of [bin, home]) if (path) rmSync(path, { recursive: true, force: true });
      reject(new Error(`gateway exited ${code}: ${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const clients: HttpClient[] = [];
  return {
    url,
    port,
    home,
    pid: child.pid!,
    stderr: () => stderr,
    tokenCommand,
    createToken(name, ...flags) {
      const r = tokenCommand("create", "--name", name, ...flags);
      if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    async connect(token) {
      const client = new Client({ name: "llm-cli-gateway-http-tests", version: "1.0.0" });
      const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
      });
      await client.connect(transport);
      const c: HttpClient = {
        client,
        call: async (name, a) =>
          (await client.callTool({ name, arguments: a }, undefined, {
            timeout: 60_000,
          })) as CallToolResult,
        close: async () => {
          await transport.terminateSession().catch(() => {});
          await client.close();
        },
      };
      clients.push(c);
      return c;
    },
    invocations: () =>
      existsSync(logFile)
        ? readFileSync(logFile, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as FakeInvocation)
            .filter((e) => e.cli)
        : [],
    reset: () => rmSync(logFile, { force: true }),
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      for (const path of [bin, home]) if (path) rmSync(path, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with full control of the headers (Host included), for the refusals. */
export function rawRequest(
  port: number,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "POST",
        path: options.path ?? "/mcp",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...options.headers,
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
