import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATASETTE_METADATA, shellQuote } from "../../src/cli/logs-datasette.js";
import { runLogsCommand } from "../../src/cli/logs.js";
import { Recorder } from "../../src/recorder/writer.js";

// The real Datasette serves these (python/llm-gateway/tests/test_datasette.py); here: the command.
let dir: string;
let db: string;
const capture = () => {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (t: string) => void (out.stdout += t),
    stderr: (t: string) => void (out.stderr += t),
  };
  return { out, io };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-datasette-"));
  db = join(dir, "my dir", "logs.db");
  Recorder.open(db, { onError: (e) => console.error(e) }).close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("llm-cli-gateway logs datasette", () => {
  it("prints the exact command, quoted for a shell, with the shipped metadata", async () => {
    const { out, io } = capture();
    expect(await runLogsCommand(["datasette", "--db", db], {}, io)).toBe(0);
    expect(out.stdout).toBe(`datasette serve '${db}' --metadata ${DATASETTE_METADATA}\n`);
    expect(out.stderr).toBe("");
    const metadata = JSON.parse(readFileSync(DATASETTE_METADATA, "utf8"));
    expect(Object.keys(metadata.databases.logs.queries)).toEqual([
      "cost_and_tokens_per_day_and_cli",
      "failures_by_category",
      "slowest_calls",
      "consultation_calls",
    ]);
  });

  it("uses the recorder's configured path and says when the metadata will not apply", async () => {
    const other = join(dir, "recorder.db");
    Recorder.open(other, { onError: (e) => console.error(e) }).close();
    const { out, io } = capture();
    expect(await runLogsCommand(["datasette"], { LLM_GATEWAY_LOGS_DB: other }, io)).toBe(0);
    expect(out.stdout).toContain(`datasette serve ${other} --metadata`);
    expect(out.stderr).toMatch(/names the database "recorder".*link or copy the file as logs.db/);
  });

  it("--run starts datasette with the options after --", async () => {
    const bin = join(dir, "bin");
    const log = join(dir, "datasette-argv.json");
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    writeFileSync(
      join(bin, "datasette"),
      `#!/usr/bin/env node\nrequire("fs").writeFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)));\nprocess.exit(3);\n`,
      { mode: 0o755 },
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const { io } = capture();
      expect(
        await runLogsCommand(["datasette", "--db", db, "--run", "--", "--port", "8123"], {}, io),
      ).toBe(3);
    } finally {
      process.env.PATH = path;
    }
    expect(JSON.parse(readFileSync(log, "utf8"))).toEqual([
      "serve",
      db,
      "--metadata",
      DATASETTE_METADATA,
      "--port",
      "8123",
    ]);
  });

  it("--run without datasette installed says how to install it", async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, "empty");
    try {
      const { out, io } = capture();
      expect(await runLogsCommand(["datasette", "--db", db, "--run"], {}, io)).toBe(1);
      expect(out.stderr).toContain("datasette is not installed");
    } finally {
      process.env.PATH = path;
    }
  });

  it("quotes only what a shell would misread", () => {
    expect(shellQuote("/tmp/a-b_c.db")).toBe("/tmp/a-b_c.db");
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});
