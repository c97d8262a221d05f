import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTokenCommand } from "../../src/cli/token.js";
import { BACKENDS } from "../helpers/postgres.js";
import { openTestStore } from "../helpers/store-db.js";
import { TokenStore } from "../../src/store/tokens.js";
import { BoundedEventStore } from "../../src/transport/event-store.js";
import { isLoopback, OriginGuard } from "../../src/transport/http-guard.js";

const dir = mkdtempSync(join(tmpdir(), "llm-gateway-http-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("Host and Origin", () => {
  const guard = new OriginGuard({
    host: "127.0.0.1",
    allowedHosts: ["gateway.example.com"],
    allowedOrigins: ["https://app.example.com"],
  });
  it.each([
    ["127.0.0.1:8765", undefined],
    ["localhost", undefined],
    ["[::1]:8765", undefined],
    ["GATEWAY.example.com", undefined],
    ["evil.example", /Host "evil.example"/],
    ["127.0.0.1.evil.example:8765", /is not accepted/],
  ])("Host %s", (host, expected) => {
    const problem = guard.problem(req({ host }));
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });
  it.each([
    ["http://localhost:3000", undefined],
    ["http://127.0.0.1:8765", undefined],
    ["https://app.example.com", undefined],
    ["https://evil.example", /Origin "https:\/\/evil.example"/],
    ["null", /Origin "null"/],
  ])("Origin %s", (origin, expected) => {
    const problem = guard.problem(req({ host: "localhost:8765", origin }));
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });
  it("a missing Host is refused", () => {
    expect(guard.problem(req({}))).toMatch(/Host header is missing/);
  });
  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"].map(isLoopback)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["0.0.0.0", "::", "192.168.1.2", "example.com"].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe.each(BACKENDS)("tokens on %s", (backend) => {
  it("verifies a token by its hash only, and not after revocation", async () => {
    const db = await openTestStore(backend);
    const tokens = new TokenStore(db);
    const { token } = tokens.create({ name: "ci", clis: ["claude"], concurrency: 2 });
    expect(token).toMatch(/^lcg_[A-Za-z0-9_-]{43}$/);
    expect(tokens.verify(token)).toMatchObject({ name: "ci", clis: ["claude"], concurrency: 2 });
    expect(tokens.verify(token + "x")).toBeUndefined();
    const stored = db.prepare("SELECT hash FROM tokens").get() as { hash: string };
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(db.prepare("SELECT * FROM tokens").all())).not.toContain(token);
    expect(() => tokens.create({ name: "ci" })).toThrow(/exists/);
    tokens.create({ name: "other" });
    expect(tokens.count()).toBe(2);
    expect(tokens.revoke("ci")).toBe(true);
    expect(tokens.revoke("ci")).toBe(false);
    expect(tokens.verify(token)).toBeUndefined();
    expect(tokens.list().map((t) => t.name)).toEqual(["other"]);
    for (const name of ["b", "B", "a"]) tokens.create({ name });
    expect(tokens.list().map((t) => t.name)).toEqual(["B", "a", "b", "other"]); // byte order
  });
});

describe("token command", () => {
  it("token create refuses bad limits with the field named, creating nothing", () => {
    const env = { HOME: dir, LLM_GATEWAY_HOME: join(dir, "gw") };
    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t) };
    expect(runTokenCommand(["create", "--name", "a", "--clis", "claude,cursor"], env, io)).toBe(2);
    expect(out.join("")).toContain("--clis must list claude, codex, gemini");
    expect(runTokenCommand(["create", "--name", "a", "--max-policy", "yolo"], env, io)).toBe(2);
    expect(runTokenCommand(["create", "--name", "a", "--concurrency", "0"], env, io)).toBe(2);
    expect(runTokenCommand(["create", "--name", "-x"], env, io)).toBe(2);
    out.length = 0;
    expect(runTokenCommand(["list", "--json"], env, io)).toBe(0);
    expect(JSON.parse(out.join(""))).toEqual([]);
    expect(statSync(join(dir, "gw", "gateway.db")).mode & 0o777).toBe(0o600);
  });
});

describe("the SSE event store", () => {
  it("replays a stream's events after an id, and forgets the oldest past its bound", async () => {
    const store = new BoundedEventStore(3);
    const msg = (id: number) => ({ jsonrpc: "2.0" as const, method: "m", params: { id } });
    const a1 = await store.storeEvent("a", msg(1));
    await store.storeEvent("b", msg(2));
    await store.storeEvent("a", msg(3));
    const sent: unknown[] = [];
    expect(await store.replayEventsAfter(a1, { send: async (_id, m) => void sent.push(m) })).toBe(
      "a",
    );
    expect(sent).toEqual([msg(3)]);
    await store.storeEvent("a", msg(4));
    await expect(store.replayEventsAfter(a1, { send: async () => {} })).rejects.toThrow(
      /no longer kept/,
    );
  });
});
