// A large reply goes out of the stdio transport from the bytes the CLI wrote (issue #22): the
// client must get it exactly as a string reply, in content and structuredContent alike, and the
// async job, the flight recorder and the next reply must see the same text.
import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import {
  delay,
  sc,
  startGateway,
  textOf,
  waitForJob,
  type StartedGateway,
} from "../helpers/gateway.js";

const CLIS = ["claude", "codex", "gemini"] as const;
let bin: string;
let gw: StartedGateway;

beforeAll(async () => {
  bin = installFakeClis();
  gw = await startGateway({ PATH: `${bin}:${process.env.PATH}` });
});
afterAll(async () => {
  await gw.close();
  rmSync(bin, { recursive: true, force: true });
});

function recorded(correlationId: string): Record<string, any> | undefined {
  const db = new Database(join(gw.home, ".llm-cli-gateway", "logs.db"), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM calls WHERE correlation_id = ?`).get(correlationId) as
      Record<string, any> | undefined;
  } finally {
    db.close();
  }
}

describe("a large sync reply", () => {
  it(
    "arrives whole, the same in content, structuredContent and the async job's result",
    { timeout: 120_000 },
    async () => {
      for (const cli of CLIS) {
        const prompt = "[[fake:bytes=1300000]]";
        const reply = await gw.call(`${cli}_request`, { prompt, correlationId: `large-${cli}` });
        expect(reply.isError, cli).toBeFalsy();
        expect(textOf(reply) === "x".repeat(1_300_000), cli).toBe(true);
        expect(sc(reply).text === textOf(reply), cli).toBe(true);
        const { jobId } = sc(await gw.call(`${cli}_request_async`, { prompt }));
        await waitForJob(gw, jobId);
        const stored = sc(await gw.call("llm_job_result", { jobId, maxChars: 1_000_000 }));
        expect(stored.result.text === "x".repeat(1_000_000), cli).toBe(true);
        expect(stored.textPage.totalChars, cli).toBe(1_300_000);
        // The recorder keeps the first million characters and the whole length.
        let row = recorded(`large-${cli}`);
        for (let i = 0; i < 50 && row?.status === "started"; i++, row = recorded(`large-${cli}`))
          await delay(50);
        expect(row!.response_chars, cli).toBe(1_300_000);
        expect(row!.response, cli).toBe(
          `${"x".repeat(1_000_000)}\n[… 300000 more characters not recorded]`,
        );
      }
    },
  );

  it("keeps every character of a text with escapes and multi-byte characters", async () => {
    // Over 256 KB of UTF-8 in a prompt under 100,000 characters: the large-text path.
    const unit = '日本語のテキスト中文文本한국어텍스트漢字かな🙂"\\\té';
    const text = unit.repeat(Math.floor(99_000 / unit.length));
    for (const cli of CLIS) {
      const reply = await gw.call(`${cli}_request`, { prompt: `[[fake:reply=${text}]]` });
      expect(textOf(reply) === text, cli).toBe(true);
      expect(sc(reply).text === text, cli).toBe(true);
    }
  });
});
