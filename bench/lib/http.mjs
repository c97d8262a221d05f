// HTTP transport: (1) per-request overhead of `serve --http` against the same gateway on stdio
// (claude/codex/gemini_request, fake CLI answering at once, paired in the same round, variants
// alternating); (2) N HTTP clients, each its own MCP session, each making one request at once (fake
// CLI, 500 ms, the gateway's limits raised to N), while one more client pings back to back.
import { spawn, spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startServer } from "./overhead.mjs";
import { resultText } from "./rpc.mjs";
import { CLIS, GATEWAY_MAIN, fakeBin, sandbox } from "./sandbox.mjs";
import { pairedDiff, rotate, summarize } from "./stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `serve --http --port 0` in the sandbox, with a token; resolves once it listens. */
async function startHttp(box, extraEnv = {}) {
  const env = { ...box.env, ...extraEnv };
  const made = spawnSync(process.execPath, [GATEWAY_MAIN, "token", "create", "--name", "bench"], {
    env,
    encoding: "utf8",
  });
  const token = made.stdout.trim();
  if (made.status !== 0 && !/exists/.test(made.stderr)) throw new Error(made.stderr);
  const child = spawn(process.execPath, [GATEWAY_MAIN, "serve", "--http", "--port", "0"], {
    env,
    cwd: box.work,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const port = await new Promise((resolve, reject) => {
    child.stderr.on("data", (c) => {
      stderr += c;
      const m = /listening on http:\/\/[^\s]+:(\d+)\/mcp/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`serve --http exited ${code}: ${stderr}`)));
  });
  const clients = [];
  return {
    async connect() {
      const client = new Client({ name: "bench", version: "1" });
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      });
      await client.connect(transport);
      clients.push({ client, transport });
      return client;
    },
    async close() {
      await Promise.all(
        clients.map(async ({ client, transport }) => {
          await transport.terminateSession().catch(() => {});
          await client.close().catch(() => {});
        }),
      );
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const ok = (result) => !result.isError && resultText({ result }).includes("FAKE-REPLY");

export async function httpSuite({ rounds, warmup, clients: n, latencyMs }) {
  const bin = fakeBin();
  const failures = [];

  // (1) overhead: the same request on stdio and over HTTP.
  const box = sandbox(bin);
  const stdio = startServer("gateway", box);
  await stdio.initialize();
  const http = await startHttp(box);
  const client = await http.connect();
  const samples = { stdio: [], http: [] };
  const once = async (variant, cli) => {
    const prompt = `Bench request for ${cli}.`;
    if (variant === "stdio") {
      const res = await stdio.callTool(`${cli}_request`, { prompt });
      if (res.msg.result?.isError) failures.push(`stdio: ${resultText(res.msg).slice(0, 200)}`);
      return res.ms;
    }
    const started = performance.now();
    const result = await client.callTool({ name: `${cli}_request`, arguments: { prompt } });
    if (!ok(result)) failures.push(`http: ${JSON.stringify(result).slice(0, 200)}`);
    return performance.now() - started;
  };
  for (let r = 0; r < warmup + rounds; r++) {
    for (const cli of CLIS) {
      const got = {};
      for (const v of rotate(["stdio", "http"], r)) got[v] = await once(v, cli);
      if (r >= warmup) for (const v of ["stdio", "http"]) samples[v].push(got[v]);
    }
  }
  await stdio.close();
  await http.close();

  // (2) n clients at once, each one request, and a pinging client meanwhile.
  const raised = {
    LLM_GATEWAY_MAX_CONCURRENT: String(n),
    LLM_GATEWAY_MAX_CONCURRENT_PER_CLI: String(n),
  };
  const many = await startHttp(sandbox(bin), raised);
  const pingClient = await many.connect();
  const pingIdle = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await pingClient.ping();
    pingIdle.push(performance.now() - t);
  }
  const connectStarted = performance.now();
  const burstClients = [];
  for (let i = 0; i < n; i++) burstClients.push(await many.connect());
  const connectMs = performance.now() - connectStarted;
  let answered = 0;
  let done = false;
  const pingBurst = [];
  const started = performance.now();
  const calls = Promise.all(
    burstClients.map((c, i) =>
      c
        .callTool(
          {
            name: `${CLIS[i % 3]}_request`,
            arguments: { prompt: `Concurrent ${i}. [[fake:sleep=${latencyMs}]]` },
          },
          undefined,
          { timeout: 120_000 },
        )
        .then((r) =>
          ok(r) ? answered++ : failures.push(`burst: ${JSON.stringify(r).slice(0, 200)}`),
        )
        .catch((err) => failures.push(`burst: ${err.message}`)),
    ),
  );
  const pinger = (async () => {
    while (!done) {
      const t = performance.now();
      await pingClient.ping();
      pingBurst.push(performance.now() - t);
      await sleep(10);
    }
  })();
  await calls;
  const wallMs = performance.now() - started;
  done = true;
  await pinger;
  await many.close();

  const p99 = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] : null;
  };
  return {
    rounds,
    overhead: {
      stdioMs: summarize(samples.stdio),
      httpMs: summarize(samples.http),
      diffMs: summarize(pairedDiff(samples.http, samples.stdio)),
    },
    burst: {
      clients: n,
      latencyMs,
      answered,
      connectMs,
      wallMs,
      pingIdleMs: { ...summarize(pingIdle), p99: p99(pingIdle) },
      pingBurstMs: { ...summarize(pingBurst), p99: p99(pingBurst) },
    },
    failures: failures.length,
    failureSamples: failures.slice(0, 5),
  };
}
