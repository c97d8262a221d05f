import { afterEach, describe, expect, it } from "vitest";
import { RawGateway } from "../helpers/raw-stdio.js";

let gateways: RawGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  gateways = [];
});

function start(env: Record<string, string> = {}): RawGateway {
  const gateway = new RawGateway(env);
  gateways.push(gateway);
  return gateway;
}

/** Waits until the SDK server has connected: tasks/list is answered only by it. */
async function startedUp(gateway: RawGateway): Promise<void> {
  gateway.send({ id: "ready", method: "tasks/list", params: {} });
  expect((await gateway.answerTo("ready")).result).toBeDefined();
}

/** Each malformed line and the answer JSON-RPC 2.0 prescribes: [line, code, id]. */
const MALFORMED: [string, number, string | number | null][] = [
  [`{"jsonrpc":"2.0","id":1,`, -32700, null],
  [`nope`, -32700, null],
  [`[]`, -32600, null],
  [`[{"jsonrpc":"2.0","id":2,"method":"ping"}]`, -32600, null],
  [`{"jsonrpc":"1.0","id":3,"method":"ping"}`, -32600, 3],
  [`{"id":4,"method":"ping"}`, -32600, 4],
  [`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, -32600, null],
  [`{"jsonrpc":"2.0","id":[1],"method":"ping"}`, -32600, null],
  [`{"jsonrpc":"2.0","id":null,"method":"ping"}`, -32600, null],
  [`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, -32600, null],
  [`{"jsonrpc":"2.0","id":5}`, -32600, null],
  [`{"jsonrpc":"2.0","id":6,"method":42}`, -32600, 6],
  [`{"jsonrpc":"2.0","id":7,"method":"ping","params":[1]}`, -32600, 7],
  [`{"jsonrpc":"2.0","id":8,"method":"ping","extra":true}`, -32600, 8],
  [`"hello"`, -32600, null],
  [`42`, -32600, null],
  [`null`, -32600, null],
  [`{"jsonrpc":"2.0","id":9,"result":5}`, -32600, null],
  [`{"jsonrpc":"2.0","id":10,"method":"server/discover"}`, -32601, 10],
];

describe("malformed JSON-RPC messages are answered, and the gateway keeps serving", () => {
  for (const phase of ["while it starts", "once started"] as const) {
    it(`answers each malformed line as JSON-RPC 2.0 says, ${phase}`, async () => {
      const gateway = start();
      if (phase === "once started") await startedUp(gateway);
      const before = gateway.answers.length;
      for (const [line] of MALFORMED) gateway.write(line + "\n");
      // A notification, even of an unknown method, is never answered.
      gateway.write(`{"jsonrpc":"2.0","method":"notifications/unknown"}\n`);
      gateway.send({ id: "last", method: "ping" });
      expect((await gateway.answerTo("last")).result).toEqual({});

      const answers = gateway.answers.slice(before).filter((a) => a.id !== "last");
      const got = answers.map((a) => `${a.error?.code} ${JSON.stringify(a.id)}`);
      const want = MALFORMED.map(([, code, id]) => `${code} ${JSON.stringify(id)}`);
      expect(got.sort()).toEqual(want.sort());
      for (const answer of answers) {
        expect(answer.jsonrpc).toBe("2.0");
        expect(answer.error?.message).toEqual(expect.any(String));
      }
    });
  }

  it("answers a method it does not have at once, before the server has loaded", async () => {
    const gateway = start();
    gateway.send({ id: "discover", method: "server/discover", params: {} });
    const discover = await gateway.answerTo("discover");
    expect(discover.error?.code).toBe(-32601);
    // The gateway logs this right before the SDK server connects: the answer came before it.
    expect(gateway.stderr).not.toContain("Starting llm-cli-gateway");
    gateway.send({ id: "queued", method: "tasks/list", params: {} });
    await gateway.answerTo("queued");
    expect(gateway.stderr).toContain("Starting llm-cli-gateway");
  });
});

describe("a line over the message limit is refused while it is read", () => {
  const big = (bytes: number, id?: number) =>
    `{"jsonrpc":"2.0",${id === undefined ? "" : `"id":${id},`}"method":"tools/call","params":{"name":"claude_request","arguments":{"prompt":"${"x".repeat(bytes)}"}}}`;

  it("refuses it with its id when the head shows one, and with null when not", async () => {
    const gateway = start({ LLM_GATEWAY_MAX_MESSAGE_BYTES: "4096" });
    await startedUp(gateway);
    // In small pieces, the way a pipe may deliver it.
    const line = big(1_000_000, 20) + "\n";
    for (let i = 0; i < line.length; i += 16_384) gateway.write(line.slice(i, i + 16_384));
    const refused = await gateway.answerTo(20);
    expect(refused.error?.code).toBe(-32600);
    expect(refused.error?.message).toMatch(/4096 bytes \(LLM_GATEWAY_MAX_MESSAGE_BYTES\)/);

    // No id before the params: refused with id null. Its end shares a write with the next line.
    const noHeadId = big(1_000_000).replace(/}$/, `,"id":21}`);
    gateway.write(noHeadId + "\n" + JSON.stringify({ jsonrpc: "2.0", id: 22, method: "ping" }));
    gateway.write("\n");
    expect((await gateway.answerTo(22)).result).toEqual({});
    expect(gateway.answers.filter((a) => a.id === 21)).toEqual([]);
    expect(gateway.answers.some((a) => a.id === null && a.error?.code === -32600)).toBe(true);

    // Just under the limit still goes through.
    gateway.send({ id: 23, method: "ping", params: { _meta: { pad: "y".repeat(3900) } } });
    expect((await gateway.answerTo(23)).result).toEqual({});
  });

  it("refuses a 50 MB line under the default limit and answers the next call", async () => {
    const gateway = start();
    await startedUp(gateway);
    gateway.write(big(50 * 1024 * 1024, 30) + "\n");
    gateway.send({ id: 31, method: "ping" });
    expect((await gateway.answerTo(30)).error?.code).toBe(-32600);
    expect((await gateway.answerTo(31)).result).toEqual({});
  });

  it("refuses to start on a limit that is not a positive integer, before initialize", async () => {
    const gateway = start({ LLM_GATEWAY_MAX_MESSAGE_BYTES: "lots" });
    gateway.send({ id: 1, method: "initialize", params: {} });
    expect(await gateway.exited).toBe(1);
    expect(gateway.answers).toEqual([]);
    expect(gateway.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/LLM_GATEWAY_MAX_MESSAGE_BYTES must be a positive integer, got "lots"/),
    ]);
  });
});
