import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf } from "../helpers/gateway.js";
import { startHttpLane, type HttpLane } from "../helpers/http-gateway.js";

// The documented reverse proxy (docs/HTTP.md): Debian's nginx with docs/nginx's locations, on
// loopback, as a non-daemon in a temporary prefix. .ci/run installs nginx; elsewhere the test is
// skipped when nginx is missing (in CI a missing nginx fails).
const LOCATIONS = join(import.meta.dirname, "../../docs/nginx/llm-cli-gateway-locations.conf");
const nginx = ["/usr/sbin/nginx", "nginx"].find(
  (bin) => spawnSync(bin, ["-v"], { stdio: "ignore" }).status === 0,
);
const required = process.env.CI === "true";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!nginx && !required)("behind nginx (docs/nginx)", () => {
  let lane: HttpLane;
  let proxy: ChildProcess | undefined;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    if (!nginx) throw new Error("nginx is not installed (apt-get install -y nginx)");
    lane = await startHttpLane();
    dir = mkdtempSync(join(tmpdir(), "llm-gateway-nginx-"));
    port = await freePort();
    const locations = readFileSync(LOCATIONS, "utf8").replaceAll(
      "127.0.0.1:8765",
      `127.0.0.1:${lane.port}`,
    );
    writeFileSync(join(dir, "locations.conf"), locations);
    writeFileSync(
      join(dir, "nginx.conf"),
      [
        // As root, nginx's workers would switch to nobody, who cannot enter this 0700 directory.
        process.getuid?.() === 0 ? "user root;" : "",
        "worker_processes 1;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        "events { worker_connections 64; }",
        "http {",
        `  access_log ${dir}/access.log;`,
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
          (t) => `  ${t}_temp_path ${dir}/${t};`,
        ),
        `  server { listen 127.0.0.1:${port}; server_name 127.0.0.1; include ${dir}/locations.conf; }`,
        "}",
      ].join("\n"),
    );
    proxy = spawn(nginx, ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    for (let i = 0; i < 100; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (up?.ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nginx did not start: ${readFileSync(join(dir, "error.log"), "utf8")}`);
  });

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy!.once("exit", r));
      proxy.kill("SIGQUIT");
      await exited;
    }
    await lane?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("an MCP request, with progress over SSE, goes through the proxy unbuffered", async () => {
    const client = new Client({ name: "through-nginx", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`));
    await client.connect(transport);
    try {
      const notes: number[] = [];
      const r = await client.callTool(
        {
          name: "codex_request",
          arguments: { prompt: "via nginx [[fake:stream=6]] [[fake:every=300]]" },
        },
        undefined,
        { onprogress: (p) => notes.push(p.progress), timeout: 30_000 },
      );
      expect(textOf(r as never)).toContain("FAKE-REPLY: via nginx");
      expect(notes.length).toBeGreaterThanOrEqual(1);
      expect(lane.invocations().map((i) => i.cli)).toEqual(["codex"]);
    } finally {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
  });
});
