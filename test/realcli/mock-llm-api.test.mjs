// Tests of the mock model API itself: node --test test/realcli/mock-llm-api.test.mjs
// Every request goes to the mock on 127.0.0.1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startMockApi } from "./mock-llm-api.mjs";

let mock;
let logFile;

before(async () => {
  logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mock-llm-api-")), "mock.jsonl");
  mock = await startMockApi({ port: 0, logFile });
});
after(async () => {
  await mock.close();
});

// ───────────── helpers ─────────────

function post(pathname, body, headers = {}) {
  return fetch(`${mock.url}${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

// Parse an SSE body into [{event, data}] (data JSON-parsed when possible).
function parseSse(text) {
  return text
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? null;
      const raw = /^data: (.*)$/m.exec(block)?.[1] ?? "";
      let data = raw;
      try {
        data = JSON.parse(raw);
      } catch {
        // "[DONE]" and the like
      }
      return { event, data };
    });
}

const lastLog = () => mock.log().at(-1);

const anthropicBody = (messages, extra = {}) => ({
  model: "claude-sonnet-4-5",
  max_tokens: 100,
  stream: true,
  messages,
  ...extra,
});
const userMsg = (text) => ({ role: "user", content: [{ type: "text", text }] });

async function anthropicStream(messages, extra) {
  const res = await post("/v1/messages?beta=true", anthropicBody(messages, extra));
  return { res, events: parseSse(await res.text()) };
}

function anthropicText(events) {
  return events
    .filter((e) => e.event === "content_block_delta")
    .map((e) => e.data.delta.text ?? e.data.delta.partial_json)
    .join("");
}

async function responsesStream(input, extra = {}) {
  const res = await post("/v1/responses", { model: "gpt-5.5", stream: true, input, ...extra });
  return { res, events: parseSse(await res.text()) };
}

const geminiPath = (model = "gemini-2.5-pro") =>
  `/v1beta/models/${model}:streamGenerateContent?alt=sse`;

async function geminiStream(contents, extra = {}) {
  const res = await post(geminiPath(), { contents, ...extra });
  return { res, chunks: parseSse(await res.text()).map((e) => e.data) };
}

const geminiText = (chunks) =>
  chunks.map((c) => c.candidates?.[0]?.content?.parts?.[0]?.text ?? "").join("");

// ───────────── dialects ─────────────

test("anthropic: reply, 3 deltas, event sequence, usage, 2-turn history", async () => {
  const first = await anthropicStream([userMsg("alpha remember the word pelican")]);
  assert.equal(first.res.status, 200);
  assert.match(first.res.headers.get("content-type"), /text\/event-stream/);
  const kinds = first.events.map((e) => e.event);
  assert.deepEqual(kinds, [
    "message_start",
    "content_block_start",
    "ping",
    "content_block_delta",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  assert.equal(anthropicText(first.events), "MOCK-REPLY 1: alpha remember the word pelican");
  const start = first.events[0].data.message;
  assert.ok(start.usage.input_tokens > 0);
  assert.equal(first.events.at(-2).data.delta.stop_reason, "end_turn");
  assert.equal(first.events.at(-2).data.usage.output_tokens, Math.ceil(45 / 4));

  const second = await anthropicStream([
    {
      role: "user",
      content: [
        { type: "text", text: "<system-reminder>\nctx\n</system-reminder>" },
        { type: "text", text: "alpha remember the word pelican" },
      ],
    },
    { role: "assistant", content: [{ type: "text", text: anthropicText(first.events) }] },
    userMsg("beta which word did I ask you to remember"),
  ]);
  assert.equal(
    anthropicText(second.events),
    "MOCK-REPLY 2: beta which word did I ask you to remembe",
  );
  const entry = lastLog();
  assert.equal(entry.dialect, "anthropic");
  assert.equal(entry.kind, "main");
  assert.equal(entry.query, "?beta=true");
  assert.equal(entry.turn, 2);
  assert.deepEqual(entry.userTexts, [
    "alpha remember the word pelican",
    "beta which word did I ask you to remember",
  ]);
  assert.deepEqual(entry.assistantTexts, ["MOCK-REPLY 1: alpha remember the word pelican"]);
});

test("anthropic: non-streaming JSON, count_tokens, models", async () => {
  const res = await post("/v1/messages", anthropicBody([userMsg("plain json")], { stream: false }));
  const body = await res.json();
  assert.equal(body.type, "message");
  assert.equal(body.content[0].text, "MOCK-REPLY 1: plain json");
  assert.equal(body.usage.output_tokens, Math.ceil(body.content[0].text.length / 4));
  const count = await (
    await post("/v1/messages/count_tokens", anthropicBody([userMsg("x")]))
  ).json();
  assert.ok(count.input_tokens > 0);
  const models = await (
    await fetch(`${mock.url}/v1/models`, { headers: { "anthropic-version": "2023-06-01" } })
  ).json();
  assert.equal(models.data[0].type, "model");
  assert.equal(lastLog().kind, "models");
});

test("anthropic: forced tool_choice answers from the tool's schema", async () => {
  const tool = {
    name: "emit",
    input_schema: {
      type: "object",
      properties: { title: { type: "string" }, n: { type: "integer", minimum: 1, maximum: 5 } },
    },
  };
  const { events } = await anthropicStream([userMsg("make a title")], {
    tools: [tool],
    tool_choice: { type: "tool", name: "emit" },
  });
  assert.equal(events[1].data.content_block.type, "tool_use");
  const input = JSON.parse(anthropicText(events));
  assert.equal(input.n, 5);
  assert.equal(typeof input.title, "string");
});

test("openai responses: reply, event sequence, usage, 2-turn history", async () => {
  const user = (text) => ({
    type: "message",
    role: "user",
    content: [{ type: "input_text", text }],
  });
  const first = await responsesStream([
    { type: "message", role: "developer", content: [{ type: "input_text", text: "rules" }] },
    user("<environment_context>\n  <cwd>/x</cwd>\n</environment_context>"),
    user("alpha remember the word pelican"),
  ]);
  const kinds = first.events.map((e) => e.event);
  assert.deepEqual(kinds, [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  const done = first.events.at(-1).data.response;
  const text = done.output[0].content[0].text;
  assert.equal(text, "MOCK-REPLY 1: alpha remember the word pelican");
  assert.equal(done.usage.output_tokens, Math.ceil(text.length / 4));
  assert.equal(done.usage.total_tokens, done.usage.input_tokens + done.usage.output_tokens);

  const second = await responsesStream([
    user("alpha remember the word pelican"),
    {
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    },
    user("beta which word did I ask you to remember"),
  ]);
  const deltas = second.events.filter((e) => e.event === "response.output_text.delta");
  assert.equal(
    deltas.map((e) => e.data.delta).join(""),
    "MOCK-REPLY 2: beta which word did I ask you to remembe",
  );
  assert.equal(lastLog().turn, 2);
  assert.deepEqual(lastLog().assistantTexts, [text]);
});

test("openai chat completions: streamed text and [DONE]", async () => {
  const res = await post("/v1/chat/completions", {
    model: "gpt-5.5",
    stream: true,
    messages: [{ role: "user", content: "chat hello" }],
  });
  const events = parseSse(await res.text());
  assert.equal(events.at(-1).data, "[DONE]");
  const text = events
    .slice(0, -1)
    .map((e) => e.data.choices[0].delta.content ?? "")
    .join("");
  assert.equal(text, "MOCK-REPLY 1: chat hello");
});

test("gemini: reply, finishReason on the last chunk, usageMetadata, 2-turn history", async () => {
  const first = await geminiStream([
    {
      role: "user",
      parts: [
        { text: "<session_context>\nGemini CLI\n</session_context>" },
        { text: "alpha remember" },
      ],
    },
  ]);
  assert.equal(first.chunks.length, 3);
  assert.equal(geminiText(first.chunks), "MOCK-REPLY 1: alpha remember");
  assert.equal(first.chunks[0].candidates[0].finishReason, undefined);
  assert.equal(first.chunks.at(-1).candidates[0].finishReason, "STOP");
  const usage = first.chunks.at(-1).usageMetadata;
  assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);

  const second = await geminiStream([
    { role: "user", parts: [{ text: "alpha remember" }] },
    { role: "model", parts: [{ text: "MOCK-REPLY 1: alpha remember" }] },
    { role: "user", parts: [{ text: "beta recall" }] },
  ]);
  assert.equal(geminiText(second.chunks), "MOCK-REPLY 2: beta recall");
  assert.equal(lastLog().model, "gemini-2.5-pro");
  assert.deepEqual(lastLog().userTexts, ["alpha remember", "beta recall"]);
});

test("gemini: router call on :generateContent gets a schema-valid JSON object", async () => {
  const schema = {
    type: "OBJECT",
    properties: {
      complexity_reasoning: { type: "STRING" },
      complexity_score: { type: "INTEGER", description: "1-100" },
    },
    required: ["complexity_reasoning", "complexity_score"],
  };
  for (const key of ["responseJsonSchema", "responseSchema"]) {
    const res = await post("/v1beta/models/gemini-3.5-flash-lite:generateContent", {
      contents: [{ role: "user", parts: [{ text: "route me [[mock:500]]" }] }],
      generationConfig: { responseMimeType: "application/json", [key]: schema },
    });
    assert.equal(res.status, 200); // markers never apply to router calls
    const body = await res.json();
    assert.deepEqual(JSON.parse(body.candidates[0].content.parts[0].text), {
      complexity_reasoning: "mock",
      complexity_score: 10,
    });
    assert.equal(lastLog().kind, "router");
  }
});

// ───────────── fault markers ─────────────

test("[[mock:500]]: dialect error bodies, every attempt", async () => {
  for (let i = 0; i < 2; i++) {
    const res = await post("/v1/messages", anthropicBody([userMsg("boom [[mock:500]]")]));
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-should-retry"), "true");
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "api_error");
  }
  assert.equal(lastLog().attempt, 2);
  assert.deepEqual(lastLog().faults, ["500"]);
  const oa = await post("/v1/responses", { model: "m", stream: true, input: "boom [[mock:500]]" });
  assert.equal(oa.status, 500);
  assert.ok((await oa.json()).error.message);
  const gm = await post(geminiPath(), {
    contents: [{ role: "user", parts: [{ text: "boom [[mock:500]]" }] }],
  });
  assert.equal(gm.status, 500);
  assert.deepEqual((await gm.json()).error, {
    code: 500,
    message: "mock injected 500 (status)",
    status: "INTERNAL",
  });
  const s503 = await post("/v1/responses", { model: "m", input: "x [[mock:status=503]]" });
  assert.equal(s503.status, 503);
});

test("[[mock:overloaded]]: anthropic 529, openai and gemini 429 retry-after 0", async () => {
  const an = await post("/v1/messages", anthropicBody([userMsg("busy [[mock:overloaded]]")]));
  assert.equal(an.status, 529);
  assert.equal((await an.json()).error.type, "overloaded_error");
  const oa = await post("/v1/responses", { model: "m", input: "busy [[mock:overloaded]]" });
  assert.equal(oa.status, 429);
  assert.equal(oa.headers.get("retry-after"), "0");
  const gm = await post(geminiPath(), {
    contents: [{ role: "user", parts: [{ text: "busy [[mock:overloaded]]" }] }],
  });
  assert.equal(gm.status, 429);
  assert.equal((await gm.json()).error.status, "RESOURCE_EXHAUSTED");
  const rl = await post("/v1/responses", { model: "m", input: "slowdown [[mock:ratelimit]]" });
  assert.equal(rl.status, 429);
  assert.equal(rl.headers.get("retry-after"), "1");
});

test("[[mock:500x1]]: first attempt fails, the second succeeds", async () => {
  const messages = [userMsg("flaky-xyz [[mock:500x1]]")];
  const a = await post("/v1/messages", anthropicBody(messages));
  assert.equal(a.status, 500);
  await a.text();
  const b = await anthropicStream(messages);
  assert.equal(b.res.status, 200);
  assert.equal(anthropicText(b.events), "MOCK-REPLY 1: flaky-xyz");
  assert.equal(lastLog().attempt, 2);
  assert.deepEqual(lastLog().faults, []);
});

test("[[mock:truncate]]: the stream ends without its terminal event", async () => {
  const an = await anthropicStream([userMsg("cut [[mock:truncate]]")]);
  assert.equal(an.res.status, 200);
  assert.ok(!an.events.some((e) => e.event === "message_stop" || e.event === "message_delta"));
  assert.equal(anthropicText(an.events), "MOCK-REPLY 1: cut");
  const oa = await responsesStream("cut [[mock:truncate]]");
  assert.ok(!oa.events.some((e) => e.event === "response.completed"));
  const gm = await geminiStream([{ role: "user", parts: [{ text: "cut [[mock:truncate]]" }] }]);
  assert.ok(gm.chunks.every((c) => !c.candidates[0].finishReason));
});

test("[[mock:stream-error]]: HTTP 200 then an in-stream error", async () => {
  const an = await anthropicStream([userMsg("err [[mock:stream-error]]")]);
  assert.equal(an.res.status, 200);
  assert.equal(an.events.at(-1).event, "error");
  assert.equal(an.events.at(-1).data.error.type, "overloaded_error");
  const oa = await responsesStream("err [[mock:stream-error]]");
  assert.equal(oa.events.at(-1).event, "response.failed");
  // gemini: one data chunk, then a bare {"error":…} JSON (what @google/genai recognises)
  const gm = await post(geminiPath(), {
    contents: [{ role: "user", parts: [{ text: "err [[mock:stream-error]]" }] }],
  });
  const [first, bare] = (await gm.text()).split("\n\n");
  assert.match(first, /^data: \{"candidates"/);
  assert.equal(JSON.parse(bare).error.status, "UNAVAILABLE");
  // a non-streaming retry (claude's fallback) succeeds
  const plain = await post(
    "/v1/messages",
    anthropicBody([userMsg("err [[mock:stream-error]]")], { stream: false }),
  );
  assert.equal((await plain.json()).content[0].text, "MOCK-REPLY 1: err");
});

test("[[mock:hang]]: no answer until close() destroys the socket", async () => {
  const own = await startMockApi({ port: 0 });
  const pending = fetch(`${own.url}/v1/responses`, {
    method: "POST",
    body: JSON.stringify({ model: "m", input: "wait [[mock:hang]]" }),
  }).then(
    () => "answered",
    () => "failed",
  );
  const early = await Promise.race([
    pending,
    new Promise((r) => setTimeout(() => r("pending"), 300)),
  ]);
  assert.equal(early, "pending");
  const t0 = Date.now();
  await own.close();
  assert.equal(await pending, "failed");
  assert.ok(Date.now() - t0 < 2000);
});

test("[[mock:close]], reset, drop, drop-rst, stall: connection-level faults", async () => {
  const outcome = (p) =>
    p.then(
      () => "ok",
      (err) => `failed: ${err.cause?.code ?? err.message}`,
    );
  for (const marker of ["close", "reset"]) {
    const r = await outcome(
      post("/v1/responses", { model: "m", stream: true, input: `x [[mock:${marker}]]` }),
    );
    assert.match(r, /^failed/, marker);
  }
  for (const marker of ["drop", "drop-rst"]) {
    const res = await post("/v1/responses", {
      model: "m",
      stream: true,
      input: `y [[mock:${marker}]]`,
    });
    assert.equal(res.status, 200);
    assert.match(await outcome(res.text()), /^failed/, marker);
  }
  const t0 = Date.now();
  const stalled = await responsesStream("z [[mock:stall=300]]");
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(stalled.events.at(-1).event, "response.completed");
});

test("[[mock:slow=MS]], reply=, words=, nousage", async () => {
  const t0 = Date.now();
  const slow = await anthropicStream([userMsg("later [[mock:slow=300]]")]);
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(anthropicText(slow.events), "MOCK-REPLY 1: later");
  const fixed = await anthropicStream([userMsg("[[mock:reply=exactly this]] ignored")]);
  assert.equal(anthropicText(fixed.events), "exactly this");
  const words = await anthropicStream([userMsg("pad [[mock:words=3]]")]);
  assert.equal(anthropicText(words.events), "MOCK-REPLY 1: pad lorem ipsum dolor");
  const oa = await responsesStream("no usage [[mock:nousage]]");
  assert.equal(oa.events.at(-1).data.response.usage, null);
});

test("[[mock:bytes=N]]: padded to N bytes, streamed in ≤64 KiB deltas", async () => {
  const n = 300_000;
  const { events } = await anthropicStream([userMsg("big out [[mock:bytes=300000]]")]);
  const deltas = events.filter((e) => e.event === "content_block_delta");
  const text = anthropicText(events);
  assert.equal(Buffer.byteLength(text), n);
  assert.ok(text.startsWith("MOCK-REPLY 1: big out"));
  assert.ok(deltas.length >= 5 && deltas.length <= 10);
  assert.ok(deltas.every((d) => Buffer.byteLength(d.data.delta.text) <= 64 * 1024));
  assert.match(lastLog().reply, /…\(300000 bytes\)$/);
});

// ───────────── tools ─────────────

test("[[mock:tool=…]] anthropic: tool_use by suffix, then the result is echoed", async () => {
  const tools = [{ name: "mcp__mini__echo_marker", input_schema: { type: "object" } }];
  const prompt = userMsg('go [[mock:tool=echo_marker {"text":"hi"}]]');
  const call = await anthropicStream([prompt], { tools });
  const block = call.events[1].data.content_block;
  assert.equal(block.type, "tool_use");
  assert.equal(block.name, "mcp__mini__echo_marker");
  assert.deepEqual(JSON.parse(anthropicText(call.events)), { text: "hi" });
  assert.equal(call.events.at(-2).data.delta.stop_reason, "tool_use");
  assert.equal(lastLog().tool, "mcp__mini__echo_marker");

  const result = await anthropicStream(
    [
      prompt,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: block.id, name: block.name, input: { text: "hi" } }],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: block.id,
            content: [{ type: "text", text: "ECHO[hi]" }],
          },
          { type: "text", text: "<system-reminder>x</system-reminder>" },
        ],
      },
    ],
    { tools },
  );
  assert.equal(
    anthropicText(result.events),
    "MOCK-REPLY 1: tool mcp__mini__echo_marker -> ECHO[hi]",
  );
});

test("[[mock:tool=…]] anthropic: deferred tool goes through ToolSearch first", async () => {
  const reminder =
    "<system-reminder>\nThe following deferred tools are now available via ToolSearch. Use it:\nmcp__mini__echo_marker\n</system-reminder>";
  const prompt = {
    role: "user",
    content: [
      { type: "text", text: reminder },
      { type: "text", text: "go [[mock:tool=echo_marker]]" },
    ],
  };
  const tools = [{ name: "ToolSearch", input_schema: { type: "object" } }];
  const search = await anthropicStream([prompt], { tools });
  const block = search.events[1].data.content_block;
  assert.equal(block.name, "ToolSearch");
  assert.deepEqual(JSON.parse(anthropicText(search.events)), {
    query: "select:mcp__mini__echo_marker",
    max_results: 5,
  });
  const next = await anthropicStream(
    [
      prompt,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: block.id, name: "ToolSearch", input: {} }],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: block.id,
            content: [{ type: "tool_reference", tool_name: "mcp__mini__echo_marker" }],
          },
        ],
      },
    ],
    {
      tools: [...tools, { name: "mcp__mini__echo_marker", defer_loading: true, input_schema: {} }],
    },
  );
  assert.equal(next.events[1].data.content_block.name, "mcp__mini__echo_marker");
});

test("[[mock:tool=…]] responses: tool_search_call, then namespaced function_call, then echo", async () => {
  const user = {
    type: "message",
    role: "user",
    content: [{ type: "input_text", text: 'go [[mock:tool=echo_marker {"a":1}]]' }],
  };
  const tools = [
    { type: "function", name: "exec_command" },
    { type: "tool_search", execution: "client" },
  ];
  const search = await responsesStream([user], { tools });
  const item = search.events.find((e) => e.event === "response.output_item.done").data.item;
  assert.equal(item.type, "tool_search_call");
  assert.equal(item.execution, "client");

  const searched = [
    user,
    {
      type: "tool_search_call",
      call_id: item.call_id,
      execution: "client",
      arguments: item.arguments,
    },
    {
      type: "tool_search_output",
      call_id: item.call_id,
      tools: [
        {
          type: "namespace",
          name: "mcp__mini__",
          tools: [{ type: "function", name: "echo_marker" }],
        },
      ],
    },
  ];
  const call = await responsesStream(searched, { tools });
  const fc = call.events.find((e) => e.event === "response.output_item.done").data.item;
  assert.equal(fc.type, "function_call");
  assert.equal(fc.name, "echo_marker");
  assert.equal(fc.namespace, "mcp__mini__");
  assert.equal(fc.arguments, '{"a":1}');

  const done = await responsesStream(
    [
      ...searched,
      fc,
      { type: "function_call_output", call_id: fc.call_id, output: "Output:\nECHO" },
    ],
    { tools },
  );
  assert.equal(
    done.events.at(-1).data.response.output[0].content[0].text,
    "MOCK-REPLY 1: tool echo_marker -> Output: ECHO",
  );
});

test("[[mock:tool=…]] gemini: functionCall by suffix, then the functionResponse is echoed", async () => {
  const tools = [{ functionDeclarations: [{ name: "mcp_mini_echo_marker" }] }];
  const prompt = { role: "user", parts: [{ text: 'go [[mock:tool=echo_marker {"t":"x"}]]' }] };
  const call = await geminiStream([prompt], { tools });
  const part = call.chunks[0].candidates[0].content.parts[0];
  assert.deepEqual(part.functionCall, { name: "mcp_mini_echo_marker", args: { t: "x" } });
  const done = await geminiStream(
    [
      prompt,
      { role: "model", parts: [part] },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "mcp_mini_echo_marker", response: { output: "ECHO[x]" } } },
        ],
      },
    ],
    { tools },
  );
  assert.equal(geminiText(done.chunks), "MOCK-REPLY 1: tool mcp_mini_echo_marker -> ECHO[x]");
});

// ───────────── sink, control, log ─────────────

function rawRequest(options) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: mock.port, ...options });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("connect", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode);
    });
    req.on("error", reject);
    req.end();
  });
}

test("proxy sink: CONNECT and absolute-URI requests get 403 and are logged", async () => {
  assert.equal(await rawRequest({ method: "CONNECT", path: "api.anthropic.com:443" }), 403);
  assert.equal(await rawRequest({ method: "GET", path: "http://example.invalid/telemetry" }), 403);
  const proxy = mock.log().filter((e) => e.dialect === "proxy");
  assert.deepEqual(
    proxy.slice(-2).map((e) => [e.method, e.path, e.status]),
    [
      ["CONNECT", "api.anthropic.com:443", 403],
      ["GET", "http://example.invalid/telemetry", 403],
    ],
  );
});

test("unknown routes: 404 JSON logged as dialect unknown", async () => {
  const res = await fetch(`${mock.url}/nope/here`);
  assert.equal(res.status, 404);
  assert.ok((await res.json()).error);
  assert.equal(lastLog().dialect, "unknown");
});

test("control routes, queued faults, log file and header redaction", async () => {
  const health = await (await fetch(`${mock.url}/__mock/health`)).json();
  assert.equal(health.ok, true);
  assert.equal(health.seq, lastLog().seq);

  const queued = await post("/__mock/fault", {
    spec: "503x1",
    dialect: "gemini",
    match: "queued-q",
  });
  assert.equal((await queued.json()).ok, true);
  const contents = [{ role: "user", parts: [{ text: "queued-q please" }] }];
  assert.equal((await post(geminiPath(), { contents })).status, 503);
  assert.equal((await geminiStream(contents)).res.status, 200);

  await post(
    "/v1/responses",
    { model: "m", input: "secret" },
    { authorization: "Bearer sk-supersecretvalue" },
  );
  const entry = lastLog();
  assert.ok(!JSON.stringify(entry.headers).includes("supersecret"));
  const lines = fs
    .readFileSync(logFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.at(-1).seq, entry.seq);
  for (const key of [
    "seq",
    "ts",
    "method",
    "path",
    "query",
    "dialect",
    "kind",
    "model",
    "stream",
    "headers",
    "turn",
    "prompt",
    "userTexts",
    "assistantTexts",
    "faults",
    "status",
    "reply",
    "tool",
    "body",
  ]) {
    assert.ok(key in entry, key);
  }
  const viaHttp = await (await fetch(`${mock.url}/__mock/log`)).json();
  assert.equal(viaHttp.at(-1).seq, entry.seq);

  await post("/__mock/reset", {});
  assert.equal(mock.log().length, 0);
});
