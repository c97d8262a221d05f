import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { runProcess, type RunSpec } from "../../src/process/runner.js";

const node = process.execPath;
const base = { cwd: tmpdir(), env: process.env, maxOutputBytes: 10_000_000, killGraceMs: 300 };
const run = (script: string, extra: Partial<RunSpec> = {}) =>
  runProcess({ ...base, command: node, args: ["-e", script], ...extra });

const ECHO_STDIN = "process.stdin.pipe(process.stdout)";
const TRICKY = [
  "--help",
  `say "hi" and 'bye'`,
  "$(echo hi) `id` ; rm -rf /",
  "line1\nline2\r\n\ttab",
  "emoji 🦀🚀 CJK 漢字かな한국어",
  "\u0000nul",
];

describe("runProcess", () => {
  it("delivers stdin byte-exact, whatever it contains", async () => {
    for (const prompt of TRICKY) {
      const out = await run(ECHO_STDIN, { stdin: prompt });
      expect(out.stdout).toBe(prompt);
      expect(out.exitCode).toBe(0);
    }
  });

  it("delivers a 100,000-character CJK prompt (300 KB, above the argv limit)", async () => {
    const prompt = "漢".repeat(100_000);
    const out = await run(ECHO_STDIN, { stdin: prompt });
    expect(out.stdout.length).toBe(100_000);
    expect(out.stdout).toBe(prompt);
  });

  it("gives the child /dev/null as stdin when there is none, so readers do not block", async () => {
    const out = await run(
      "let n=0; process.stdin.on('data', d => n += d.length).on('end', () => console.log('eof', n))",
    );
    expect(out.stdout.trim()).toBe("eof 0");
  });

  it("decodes UTF-8 split across chunk boundaries", async () => {
    // Write a 4-byte emoji one byte at a time, with pauses, so each byte is its own chunk.
    const script = `const b = Buffer.from("🦀é"); let i = 0; const t = setInterval(() => { process.stdout.write(b.subarray(i, i + 1)); if (++i === b.length) clearInterval(t); }, 15);`;
    const out = await run(script);
    expect(out.stdout).toBe("🦀é");
  });

  it("captures stdout through a file when asked, whole", async () => {
    const out = await run("process.stdout.write('x'.repeat(3_000_000)); process.exit(0)", {
      stdoutToFile: true,
    });
    expect(out.stdout.length).toBe(3_000_000);
  });

  it("reports a missing command as a spawn error with ENOENT", async () => {
    const out = await runProcess({ ...base, command: "definitely-not-a-cli-xyz", args: [] });
    expect(out.spawnError?.code).toBe("ENOENT");
  });

  // Stopping the whole group on timeout, with either spawner: test/integration/spawner.test.ts.
  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const out = await run(
      "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)",
      { timeoutMs: 300 },
    );
    expect(out.stopped).toBe("timeout");
    expect(out.signal).toBe("SIGKILL");
    expect(out.stdout).toBe("up\n");
  });

  it("stops a run that prints nothing for idleTimeoutMs, but not one that keeps printing", async () => {
    const idle = await run("console.log('start'); setInterval(() => {}, 1000)", {
      idleTimeoutMs: 300,
    });
    expect(idle.stopped).toBe("idle_timeout");
    expect(idle.stdout).toBe("start\n");
    // Runs 2.4 s in all, printing every 300 ms: longer than its idle limit, never idle that long.
    const busy = await run(
      "let n = 0; const t = setInterval(() => { console.log(n); if (++n === 8) { clearInterval(t); } }, 300)",
      { idleTimeoutMs: 1500 },
    );
    expect(busy.stopped).toBeUndefined();
    expect(busy.exitCode).toBe(0);
  });

  it("notices idleness with a file-backed stdout too", async () => {
    const out = await run("console.log('start'); setInterval(() => {}, 1000)", {
      idleTimeoutMs: 300,
      stdoutToFile: true,
    });
    expect(out.stopped).toBe("idle_timeout");
    expect(out.stdout).toBe("start\n");
  });

  it("stops a run whose output passes the cap", async () => {
    const out = await run("setInterval(() => process.stdout.write('y'.repeat(65536)), 1)", {
      maxOutputBytes: 1_000_000,
    });
    expect(out.stopped).toBe("output_overflow");
    expect(out.stdout.length).toBeLessThanOrEqual(1_000_000);
  });

  it.each([false, true])(
    "past the cap (stdout to a file: %s) it keeps the start of stdout in whole lines and counts the bytes",
    async (stdoutToFile) => {
      const line = "z".repeat(999) + "\n";
      const out = await run(
        `const l = ${JSON.stringify(line)}.repeat(64); setInterval(() => process.stdout.write(l), 1)`,
        { maxOutputBytes: 3_000_000, stdoutToFile },
      );
      expect(out.stopped).toBe("output_overflow");
      expect(out.keptBytes).toBe(3_000_000);
      expect(out.outputBytes).toBeGreaterThan(3_000_000);
      // Whole lines up to 256 KiB: bounded, whatever the cap, and nothing of the cut line.
      expect(out.stdout.length).toBeGreaterThan(256 * 1024 - 1000);
      expect(out.stdout.length).toBeLessThanOrEqual(256 * 1024);
      expect(out.stdout.length % 1000).toBe(0);
    },
  );

  it("reports the cap passed by output read after the exit (stdout to a file)", async () => {
    const out = await run("process.stdout.write('y'.repeat(3_000_000))", {
      maxOutputBytes: 1_000_000,
      stdoutToFile: true,
    });
    expect(out.stopped).toBe("output_overflow");
    expect(out.keptBytes).toBe(1_000_000);
  });

  it.each([false, true])(
    "backpressure (stdout to a file: %s): output is not read while the store catches up, and none is lost when the CLI exits meanwhile",
    async (stdoutToFile) => {
      let waits = 0;
      const started = Date.now();
      // The file-backed stdout is read every 100 ms: the CLI is still running at the first read.
      const out = await run(
        "process.stdout.write('w'.repeat(2_000_000)); setTimeout(() => {}, 300)",
        {
          stdoutToFile,
          // Longer than the 1 s the runner waits for the pipes after the exit.
          backpressure: () =>
            waits++ === 0 ? new Promise<void>((r) => setTimeout(r, 1500)) : undefined,
        },
      );
      expect(waits).toBeGreaterThanOrEqual(1);
      // A pipe is not read meanwhile; a file is read whole once the CLI has exited.
      if (!stdoutToFile) expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect(out.stopped).toBeUndefined();
      expect(out.stdout).toBe("w".repeat(2_000_000));
    },
  );

  it("stops waiting for the pipes about 1 s after the exit when a grandchild holds them open, silent", async () => {
    const started = Date.now();
    const out = await run(
      "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'inherit' }).unref(); console.log('done')",
    );
    expect(out.stdout).toBe("done\n");
    expect(out.exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops a run when its signal aborts", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const out = await run("setInterval(() => {}, 1000)", { signal: abort.signal });
    expect(out.stopped).toBe("canceled");
  });

  it("keeps only the stdout lines retainStdoutLine asks for, also when a line spans chunks", async () => {
    // Pieces written with pauses arrive as separate chunks; the long line is split mid-way.
    const pieces = ["keep a\ndrop ", "x".repeat(70_000), "\nshort", "en me\nkeep b"];
    const script = `const p = ${JSON.stringify(pieces)}; let i = 0; const t = setInterval(() => { process.stdout.write(p[i]); if (++i === p.length) clearInterval(t); }, 20);`;
    const heads: string[] = [];
    const lines: string[] = [];
    const out = await run(script, {
      retainStdoutLine: (head) => {
        heads.push(head);
        if (head.startsWith("drop")) return "drop";
        if (head.startsWith("short")) return { replace: "S" };
        return "keep";
      },
      onStdoutLine: (line) => lines.push(line.toString()),
    });
    expect(out.stdout).toBe("keep a\nS\nkeep b");
    expect(heads.map((h) => h.length)).toEqual([6, 256, 10, 6]);
    // The 70 KB line is longer than NOTED_LINE_BYTES: not passed on (it would cost a copy).
    expect(lines).toEqual(["keep a", "shorten me", "keep b"]);
  });

  it("keeps a long line that spans chunks whole, in order", async () => {
    const pieces = ["first\nlong ", "y".repeat(40_000), "z".repeat(40_000), " end\nlast"];
    const script = `const p = ${JSON.stringify(pieces)}; let i = 0; const t = setInterval(() => { process.stdout.write(p[i]); if (++i === p.length) clearInterval(t); }, 20);`;
    const out = await run(script, { retainStdoutLine: () => "keep" });
    expect(out.stdout).toBe(pieces.join(""));
  });
});
