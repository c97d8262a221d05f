import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Spawner } from "../../src/process/spawner.js";
import { survivors } from "../helpers/gateway.js";

// The built modules: the helper process runs dist/process/spawner-main.js.
const dist = "../../dist/";
const { createLogger } = (await import(`${dist}log.js`)) as typeof import("../../src/log.js");
const { runProcess } = (await import(
  `${dist}process/runner.js`
)) as typeof import("../../src/process/runner.js");
const { HelperSpawner, spawnHere } = (await import(
  `${dist}process/spawner.js`
)) as typeof import("../../src/process/spawner.js");

const logs: string[] = [];
const spawner = new HelperSpawner(
  createLogger(false, (line: string) => logs.push(line) > 0),
  {
    killGraceMs: 300,
  },
);
afterEach(() => spawner.close());

const base = { cwd: process.cwd(), env: process.env, maxOutputBytes: 50_000_000, killGraceMs: 300 };
const node = (script: string, extra: Record<string, unknown> = {}) =>
  runProcess({ ...base, command: process.execPath, args: ["-e", script], spawner, ...extra });

describe("HelperSpawner (CLIs started by a helper process, their pipes handed back)", () => {
  it("delivers stdin, and stdout and stderr whole, however large", async () => {
    const out = await node(
      "let s = ''; process.stdin.on('data', d => s += d).on('end', () => { process.stdout.write(s + 'x'.repeat(3_000_000)); process.stderr.write('e'.repeat(300_000)); })",
      { stdin: "prompt 漢字 " },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe("prompt 漢字 " + "x".repeat(3_000_000));
    expect(out.stderr).toBe("e".repeat(300_000));
  });

  it("reports the exit code and signal, and a missing command as ENOENT", async () => {
    expect((await node("process.exit(3)")).exitCode).toBe(3);
    const killed = await node("process.kill(process.pid, 'SIGKILL')");
    expect(killed.signal).toBe("SIGKILL");
    const missing = await runProcess({
      ...base,
      command: "definitely-not-a-cli-xyz",
      args: [],
      spawner,
    });
    expect(missing.spawnError?.code).toBe("ENOENT");
  });

  // The runner stops the group; each spawner must have started the CLI as a group of its own.
  it.each([
    ["through the helper", () => spawner],
    ["from the gateway itself", () => spawnHere],
  ])(
    "stops the whole process group on timeout and keeps what was printed (started %s)",
    async (_how, which) => {
      const script = `
      const { spawn } = require("node:child_process");
      const c = spawn(process.execPath, ["-e", "setInterval(()=>{},1000)"], { stdio: "ignore" });
      console.log("child", c.pid);
      setInterval(() => {}, 1000);`;
      const out = await node(script, { timeoutMs: 500, spawner: which() });
      expect(out.stopped).toBe("timeout");
      expect(out.stdout).toMatch(/^child \d+\n$/);
      const grandchild = Number(/child (\d+)/.exec(out.stdout)?.[1]);
      expect(await survivors([grandchild])).toEqual([]);
    },
  );

  it("reads the last line a CLI wrote before it exited, though its output was held back and the event loop blocked for most of the wait after the exit", async () => {
    // 150 KB, then the closing line, then the CLI exits: part of it is still unread in the pipe
    // (held back by backpressure) when the exit is reported.
    const last = '{"type":"turn.completed"}\n';
    const script = `process.stdout.write("x".repeat(150_000) + "\\n" + ${JSON.stringify(last)})`;
    let exited!: () => void;
    const exitSeen = new Promise<void>((r) => (exited = r));
    const noting: Spawner = {
      async spawn(request) {
        const started = await spawner.spawn(request);
        return { ...started, exited: started.exited.then((exit) => (exited(), exit)) };
      },
    };
    let waits = 0;
    // The store catches up 900 ms after the exit, and the event loop is then blocked for 300 ms
    // outside its timers phase, as by MCP calls answered with synchronous PostgreSQL statements:
    // the timers that come due meanwhile run at the end of that turn of the loop, before the
    // pipe is polled again.
    const catchUp = () =>
      new Promise<void>((r) =>
        setTimeout(
          () =>
            setImmediate(() => {
              r();
              const until = performance.now() + 300;
              while (performance.now() < until);
            }),
          900,
        ),
      );
    const out = await node(script, {
      spawner: noting,
      backpressure: () => (waits++ === 0 ? exitSeen.then(catchUp) : undefined),
    });
    expect(waits).toBeGreaterThanOrEqual(1);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe("x".repeat(150_000) + "\n" + last);
  });

  it("runs many at once", async () => {
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => node(`console.log(${i})`)));
    expect(outs.map((o) => o.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });

  it("still learns when a run ends if the helper process dies meanwhile", async () => {
    let helperPid = 0;
    const run = node("setTimeout(() => {}, 800)", {
      onSpawn: () => {
        helperPid = (spawner as unknown as { helper: { pid: number } }).helper.pid;
        process.kill(helperPid, "SIGKILL");
      },
    });
    const out = await run;
    expect(helperPid).toBeGreaterThan(0);
    expect(out.exitCode).toBeNull();
    expect(logs.join("")).toMatch(/spawner process exited/);
    // The next start brings up a new helper.
    expect((await node("console.log('again')")).stdout).toBe("again\n");
  });

  it("once the gateway lets go of it, the helper stops what still runs (SIGKILL after the grace) and exits", async () => {
    const own = new HelperSpawner(
      createLogger(false, () => true),
      { killGraceMs: 300 },
    );
    let pid = 0;
    let ready = false;
    const run = node(
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)",
      {
        spawner: own,
        onSpawn: (p: number) => (pid = p),
        onOutput: () => (ready = true),
      },
    );
    while (!ready) await new Promise((r) => setTimeout(r, 20));
    const helperPid = (own as unknown as { helper: { pid: number } }).helper.pid;
    own.close();
    await new Promise((r) => setTimeout(r, 150));
    expect(await survivors([pid], 0)).toEqual([pid]); // SIGTERM is ignored: it waits for the grace
    expect(await survivors([pid, helperPid], 2000)).toEqual([]);
    expect((await run).exitCode).toBeNull();
  });

  it("starts CLIs from the gateway itself when the helper process cannot start", async () => {
    const lines: string[] = [];
    const broken = new HelperSpawner(
      createLogger(false, (line: string) => lines.push(line) > 0),
      { killGraceMs: 300, helperPath: "/nonexistent/spawner-main.js" },
    );
    const first = await node("console.log('one')", { spawner: broken });
    const second = await node("console.log('two')", { spawner: broken });
    expect([first.stdout, second.stdout]).toEqual(["one\n", "two\n"]);
    expect(lines.join("")).toMatch(/could not start .*started from the gateway itself/);
  });

  it("the helper stops once idle, and the next CLI starts a new one", async () => {
    const idle = new HelperSpawner(
      createLogger(false, () => true),
      {
        killGraceMs: 300,
        idleMs: 200,
      },
    );
    try {
      expect(await survivors(helperPids(), 3000)).toEqual([]); // the other tests' helper
      const run = () =>
        runProcess({ ...base, command: process.execPath, args: ["-e", ""], spawner: idle });
      expect((await run()).exitCode).toBe(0);
      const first = helperPids();
      expect(first).toHaveLength(1);
      expect(await survivors(first, 3000)).toEqual([]);
      expect((await run()).exitCode).toBe(0);
      const second = helperPids();
      expect(second).toHaveLength(1);
      expect(second).not.toEqual(first);
    } finally {
      idle.close();
    }
  });
});

/** This process's spawner helpers still running. */
function helperPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return (
          ppid === process.pid &&
          readFileSync(`/proc/${d}/cmdline`, "utf8").includes("spawner-main.js") &&
          !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}
