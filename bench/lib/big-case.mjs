// One big-output run, in its own Node process (the bench's client may need a few GB to parse a
// 200 MB reply, and one run must not inherit another's heap): `node big-case.mjs '<json spec>'`.
// Prints one JSON line: time, the peak RSS of the process under test, and what the caller got.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { describeText, expectedText } from "./big-text.mjs";
import { memoryOf } from "./proc.mjs";
import { replyFromStdout } from "./reply.mjs";
import { RpcServer, resultText } from "./rpc.mjs";
import { bigFakeBin, cleanup, FLOOR_SERVER, GATEWAY_MAIN, RELAY, sandbox } from "./sandbox.mjs";
import { spawnDirect } from "./direct.mjs";

const spec = JSON.parse(process.argv[2]);
const { variant, cli, bytes, cap, args, floorEnv } = spec;
const expected = expectedText(bytes); // computed before anything is timed
const box = sandbox(bigFakeBin(), {
  BENCH_BIG_BYTES: String(bytes),
  ...(cap ? { LLM_GATEWAY_MAX_OUTPUT_BYTES: String(cap) } : {}),
  ...(variant === "floor" ? floorEnv : {}),
});
const prompt = `Print ${bytes} bytes.`;

try {
  const result = await run();
  process.stdout.write(
    JSON.stringify({ ...spec, floorEnv: undefined, args: undefined, ...result }) + "\n",
  );
} finally {
  cleanup();
}

async function run() {
  if (variant === "direct") {
    const r = await spawnDirect(cli, args, { prompt, env: box.env, cwd: box.work, hash: true });
    return { ms: r.ms, stdoutBytes: r.bytes, outcome: "stdout read", ok: true };
  }
  if (variant === "relay") return relay();
  const server = new RpcServer(
    process.execPath,
    [variant === "gateway" ? GATEWAY_MAIN : FLOOR_SERVER],
    {
      env: box.env,
      cwd: box.work,
      name: variant,
    },
  );
  await server.initialize();
  const started = performance.now();
  const res = await server.callTool(`${cli}_request`, { prompt });
  const ms = res.at - started;
  const mem = memoryOf(server.pid);
  await server.close();
  const verdict = variant === "gateway" ? judgeGateway(res.msg) : judgeFloor(res.msg);
  return { ms, peakRssMb: mem.hwmKb / 1024, responseBytes: res.bytes, ...verdict };
}

/** The gateway must hand back the reply intact, or an explicit output_overflow naming the cap. */
function judgeGateway(msg) {
  const result = msg.result ?? {};
  const text = resultText(msg);
  const effectiveCap = cap ?? 50 * 1024 * 1024;
  if (result.isError) {
    const category = result.structuredContent?.error?.category ?? /^\[(\w+)\]/.exec(text)?.[1];
    const head = text.slice(0, 300);
    if (category === "output_overflow") {
      const named = text.includes(String(effectiveCap));
      return {
        outcome: named
          ? `capped: output_overflow, cap ${effectiveCap} named`
          : "capped: output_overflow, cap NOT named",
        ok: named,
        capped: true,
        message: head,
      };
    }
    return { outcome: `error: ${category}`, ok: false, message: head };
  }
  const got = describeText(text);
  const structured = result.structuredContent?.text;
  const intact = got.bytes === expected.bytes && got.sha256 === expected.sha256;
  const structuredSame = structured === undefined || structured === text;
  let outcome = intact ? "intact" : text ? "SILENTLY CUT" : "SILENTLY EMPTY";
  if (intact && !structuredSame) outcome = "content intact, structuredContent.text differs";
  return {
    outcome,
    ok: intact && structuredSame,
    replyBytes: got.bytes,
    replySha256Matches: got.sha256 === expected.sha256,
    structuredTextMatches: structured === undefined ? null : structured === text,
  };
}

/** The floor returns the CLI's raw stdout; the reply inside it is checked the same way. */
function judgeFloor(msg) {
  const stdout = resultText(msg);
  let reply = "";
  try {
    reply = replyFromStdout(cli, stdout);
  } catch {
    // not parseable: reported as cut below
  }
  const got = describeText(reply);
  const intact = got.bytes === expected.bytes && got.sha256 === expected.sha256;
  return {
    outcome: intact ? "intact" : "cut",
    ok: intact,
    replyBytes: got.bytes,
    stdoutBytes: Buffer.byteLength(stdout),
  };
}

/** bench/relay.mjs in front of the same fake: the bench reads its stdout; it reports its own peak RSS. */
function relay() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [RELAY, cli, ...args], { env: box.env, cwd: box.work });
    const hash = createHash("sha256");
    let stdoutBytes = 0;
    let report = "";
    child.stdout.on("data", (c) => {
      stdoutBytes += c.length;
      hash.update(c);
    });
    child.stderr.on("data", (c) => (report += c));
    child.stdin.end(prompt);
    child.on("error", reject);
    child.on("close", () => {
      const ms = performance.now() - started;
      const mem = JSON.parse(report.trim().split("\n").pop() || "{}");
      const ok = mem.bytes === stdoutBytes && mem.exitCode === 0;
      resolve({
        ms,
        peakRssMb: mem.hwmKb / 1024,
        stdoutBytes,
        outcome: ok ? "relayed" : "relay failed",
        ok,
      });
    });
  });
}
