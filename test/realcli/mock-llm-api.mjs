#!/usr/bin/env node
// Mock model API for the REAL claude / codex / gemini CLIs. Loopback only, no dependencies.
//
// Dialects: Anthropic Messages, OpenAI Responses (+ Chat Completions), Gemini generateContent.
// Replies are deterministic ("MOCK-REPLY <turn>: <prompt head>"), faults and tool calls are
// driven by [[mock:…]] markers in the last user message, and every request is logged as one
// JSON line. test/realcli/mock-llm-api.test.mjs checks the contract this implements.
//
//   in-process: const mock = await startMockApi({ port: 0, logFile });  … await mock.close();
//   CLI:        node mock-llm-api.mjs --port 0 --log FILE --port-file F
import http from "node:http";
import fs from "node:fs";
import zlib from "node:zlib";
import crypto from "node:crypto";
import { pathToFileURL } from "node:url";

const HOST = "127.0.0.1";
const MAX_LOG_ENTRIES = 5000;
const MAX_LOG_BYTES = 256 * 1024 * 1024; // bound memory when bodies are huge
const DELTA_CHARS = 64 * 1024; // max text per streamed delta (bytes=N replies)
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const REPLY_LOG_CHARS = 4000;
const FILLER =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt".split(
    " ",
  );
const REDACT_HEADERS = new Set([
  "x-api-key",
  "authorization",
  "x-goog-api-key",
  "proxy-authorization",
  "cookie",
]);

// ───────────────────────── small helpers ─────────────────────────

const ceil4 = (n) => Math.ceil(n / 4);
const codePoints = (s) => Array.from(s);
const collapse = (s) => s.replace(/\s+/g, " ").trim();
const headChars = (s, n) => codePoints(s).slice(0, n).join("");
const randHex = (bytes) => crypto.randomBytes(bytes).toString("hex");

function parseJsonOr(text, fallback) {
  try {
    return text && text.trim() ? JSON.parse(text) : fallback;
  } catch {
    return fallback;
  }
}

// Split text into `parts` pieces (never inside a surrogate pair); empty pieces are dropped.
function splitText(text, parts) {
  const out = [];
  const size = Math.max(1, Math.ceil(text.length / parts));
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end += 1;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

// 3 deltas normally; more (≤ 64 KiB each) for big replies.
function deltas(text) {
  return splitText(text, Math.max(3, Math.ceil(text.length / DELTA_CHARS)));
}

// Keys are logged as "sk-ant-m…(23 chars)": enough to tell them apart, never the secret.
function redactHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    const s = String(v);
    out[k] = REDACT_HEADERS.has(k)
      ? `${s.slice(0, Math.min(8, s.length >> 2))}…(${s.length} chars)`
      : v;
  }
  return out;
}

// ───────────────────────── markers ─────────────────────────

const MARKER_RE = /\[\[mock:([\s\S]*?)\]\]/g;
const FAULT_RE =
  /^(?:(\d{3})|status=(\d{3})|(overloaded|ratelimit|hang|close|reset|drop-rst|drop|truncate|stream-error)|(slow|stall)=(\d+))(?:x(\d+))?$/;

const findMarkers = (text) => [...String(text).matchAll(MARKER_RE)].map((m) => m[1].trim());
const stripMarkers = (text) => String(text).replace(MARKER_RE, "");

// One marker body → a spec object. Faults may carry "xN" (first N attempts only).
export function parseSpec(spec) {
  const f = FAULT_RE.exec(spec);
  if (f) {
    const [, code, code2, name, timed, ms, limit] = f;
    return {
      type: "fault",
      name: code || code2 ? "status" : name || timed,
      status: code || code2 ? Number(code || code2) : undefined,
      ms: ms ? Number(ms) : undefined,
      limit: limit ? Number(limit) : null,
      spec,
    };
  }
  let m;
  if ((m = /^reply=([\s\S]*)$/.exec(spec))) return { type: "reply", text: m[1], spec };
  if ((m = /^words=(\d+)$/.exec(spec))) return { type: "words", n: Number(m[1]), spec };
  if ((m = /^bytes=(\d+)$/.exec(spec))) return { type: "bytes", n: Number(m[1]), spec };
  if (spec === "nousage") return { type: "nousage", spec };
  if ((m = /^tool=(\S+)\s*([\s\S]*)$/.exec(spec))) {
    return { type: "tool", name: m[1], args: parseJsonOr(m[2], {}), spec };
  }
  return { type: "unknown", spec };
}

// ───────────────────────── injected text ─────────────────────────

// Blocks the CLIs add to user turns; they are not "the prompt".
const INJECTED_BLOCK_RE =
  /^\s*<(system-reminder|environment_context|session_context|user_instructions|INSTRUCTIONS|permissions instructions|skills_instructions|apps_instructions|collaboration_mode|turn_aborted|user_shell_command|local-command-stdout|local-command-caveat|command-name)\b[^>]*>[\s\S]*?<\/\1>\s*/;
const AGENTS_RE =
  /^\s*# AGENTS\.md instructions for [^\n]*\n+<INSTRUCTIONS>[\s\S]*?<\/INSTRUCTIONS>\s*/;

// The user-authored part of one text block, or null if it is all CLI-injected.
// Untouched text is returned byte-exact.
function realPart(text) {
  if (typeof text !== "string" || text === "") return null;
  let rest = text;
  for (let m; (m = INJECTED_BLOCK_RE.exec(rest) || AGENTS_RE.exec(rest));)
    rest = rest.slice(m[0].length);
  if (rest === text) return text;
  return rest.trim() ? rest : null;
}

// Names listed in claude's "deferred tools … via ToolSearch" reminder.
function deferredNamesFrom(text) {
  const m =
    /deferred tools[^\n]*ToolSearch[\s\S]*?:\n([\s\S]*?)(?:\n\s*\n|<\/system-reminder>|$)/.exec(
      text,
    );
  if (!m) return [];
  return m[1]
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^[\w.-]+$/.test(l));
}

// ───────────────────────── request → conversation ─────────────────────────
// Each dialect is parsed into { model, stream, messages[], tools[], deferred[], search, structured, system }.
// A message is { role: 'user'|'assistant', texts[], toolCalls[{id,name,namespace,search}], toolResults[{id,name,text,tools}] }.

const newMessage = (role) => ({ role, texts: [], toolCalls: [], toolResults: [] });

function blockText(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content == null ? "" : JSON.stringify(content);
  return content
    .map((b) =>
      typeof b === "string"
        ? b
        : (b.text ?? (b.type === "tool_reference" ? `tool_reference:${b.tool_name}` : "")),
    )
    .filter(Boolean)
    .join("\n");
}

// Tool output without the reminders the CLI appends to it (as extra blocks or inline).
function resultText(content) {
  const blocks = Array.isArray(content)
    ? content.filter((b) => typeof b.text !== "string" || realPart(b.text) != null)
    : content;
  return blockText(blocks).replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, "");
}

function parseAnthropic(body) {
  const messages = [];
  const deferred = [];
  for (const m of body.messages || []) {
    if (m.role !== "user" && m.role !== "assistant") continue; // mid-conversation "system" messages
    const msg = newMessage(m.role);
    const blocks =
      typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content || [];
    for (const b of blocks) {
      if (b.type === "text") {
        msg.texts.push(b.text);
        deferred.push(...deferredNamesFrom(b.text));
      } else if (b.type === "tool_use" || b.type === "server_tool_use")
        msg.toolCalls.push({ id: b.id, name: b.name });
      else if (b.type === "tool_result")
        msg.toolResults.push({ id: b.tool_use_id, text: resultText(b.content) });
    }
    messages.push(msg);
  }
  const system = blockText(body.system);
  deferred.push(...deferredNamesFrom(system));
  const tools = (body.tools || [])
    .filter((t) => t && t.name)
    .map((t) => ({ name: t.name, schema: t.input_schema, deferred: !!t.defer_loading }));
  for (const t of tools) if (t.deferred) deferred.push(t.name);
  const searchTool = tools.find((t) => t.name === "ToolSearch");
  return {
    model: body.model,
    stream: body.stream === true,
    messages,
    tools: tools.filter((t) => !t.deferred),
    deferred,
    search: searchTool ? { kind: "claude", name: searchTool.name } : null,
    structured: anthropicStructured(body, tools),
    system,
  };
}

function anthropicStructured(body, tools) {
  const choice = body.tool_choice;
  if (choice && choice.type === "tool") {
    const tool = tools.find((t) => t.name === choice.name);
    return { mode: "tool", name: choice.name, schema: tool?.schema || {} };
  }
  const format = body.output_format || body.output_config?.format;
  if (format && format.type === "json_schema") return { mode: "text", schema: format.schema || {} };
  // claude --json-schema offers a StructuredOutput tool the model is told to call.
  const structuredTool = tools.find((t) => t.name === "StructuredOutput");
  if (structuredTool)
    return { mode: "tool", name: structuredTool.name, schema: structuredTool.schema || {} };
  return null;
}

function parseResponses(body) {
  const messages = [];
  const items =
    typeof body.input === "string"
      ? [{ type: "message", role: "user", content: body.input }]
      : body.input || [];
  for (const it of items) {
    const type = it.type || (it.role ? "message" : "");
    if (type === "message") {
      if (it.role !== "user" && it.role !== "assistant") continue; // developer/system = instructions
      const msg = newMessage(it.role);
      const parts = typeof it.content === "string" ? [{ text: it.content }] : it.content || [];
      for (const p of parts) if (typeof p.text === "string") msg.texts.push(p.text);
      messages.push(msg);
    } else if (type === "function_call" || type === "custom_tool_call") {
      const msg = newMessage("assistant");
      msg.toolCalls.push({ id: it.call_id, name: it.name, namespace: it.namespace });
      messages.push(msg);
    } else if (type === "tool_search_call") {
      const msg = newMessage("assistant");
      msg.toolCalls.push({ id: it.call_id, name: "tool_search", search: true });
      messages.push(msg);
    } else if (type === "function_call_output" || type === "custom_tool_call_output") {
      const msg = newMessage("user");
      msg.toolResults.push({ id: it.call_id, text: resultText(it.output) });
      messages.push(msg);
    } else if (type === "tool_search_output") {
      const msg = newMessage("user");
      msg.toolResults.push({
        id: it.call_id,
        text: JSON.stringify(it.tools || []),
        tools: flattenOpenAITools(it.tools),
      });
      messages.push(msg);
    }
  }
  const rawTools = body.tools || [];
  const format = body.text?.format;
  return {
    model: body.model,
    stream: body.stream === true,
    messages,
    tools: flattenOpenAITools(rawTools),
    deferred: [],
    search: rawTools.some((t) => t.type === "tool_search")
      ? { kind: "codex", name: "tool_search" }
      : null,
    structured:
      format && format.type === "json_schema"
        ? { mode: "text", schema: format.schema || {} }
        : null,
    system: typeof body.instructions === "string" ? body.instructions : "",
  };
}

// Responses tools: plain functions, and namespaces (codex MCP tools) holding functions.
function flattenOpenAITools(tools) {
  const out = [];
  for (const t of tools || []) {
    if (t.type === "namespace")
      for (const f of t.tools || []) out.push({ name: f.name, namespace: t.name });
    else if (t.name && (t.type === "function" || t.type === "custom"))
      out.push({ name: t.name, namespace: t.namespace });
  }
  return out;
}

function parseChat(body) {
  const messages = [];
  for (const m of body.messages || []) {
    if (m.role === "user" || m.role === "assistant") {
      const msg = newMessage(m.role);
      const text = blockText(m.content);
      if (text) msg.texts.push(text);
      for (const c of m.tool_calls || [])
        if (c.function?.name) msg.toolCalls.push({ id: c.id, name: c.function.name });
      messages.push(msg);
    } else if (m.role === "tool") {
      const msg = newMessage("user");
      msg.toolResults.push({ id: m.tool_call_id, text: blockText(m.content) });
      messages.push(msg);
    }
  }
  const rf = body.response_format;
  const tools = (body.tools || [])
    .filter((t) => t.type === "function" && t.function?.name)
    .map((t) => ({ name: t.function.name }));
  // qwen names its MCP tools in a reminder and calls them through its `tool_call` tool.
  const named = JSON.stringify(body.messages || []).matchAll(/\\"(mcp__[\w-]+)\\"/g);
  return {
    model: body.model,
    stream: body.stream === true,
    messages,
    tools,
    deferred: [...new Set([...named].map((m) => m[1]))],
    search: tools.some((t) => t.name === "tool_call") ? { kind: "qwen", name: "tool_call" } : null,
    structured:
      rf && rf.type === "json_schema"
        ? { mode: "text", schema: rf.json_schema?.schema || {} }
        : null,
    system: "",
  };
}

function parseGemini(body, model, stream) {
  const messages = [];
  for (const c of body.contents || []) {
    const msg = newMessage(c.role === "model" ? "assistant" : "user");
    for (const p of c.parts || []) {
      if (typeof p.text === "string" && !p.thought) msg.texts.push(p.text);
      else if (p.functionCall)
        msg.toolCalls.push({ id: p.functionCall.id, name: p.functionCall.name });
      else if (p.functionResponse)
        msg.toolResults.push({
          id: p.functionResponse.id,
          name: p.functionResponse.name,
          text: geminiResultText(p.functionResponse.response),
        });
    }
    messages.push(msg);
  }
  const tools = [];
  for (const t of body.tools || [])
    for (const f of t.functionDeclarations || []) tools.push({ name: f.name });
  const gc = body.generationConfig || {};
  const schema = gc.responseJsonSchema || gc.responseSchema;
  return {
    model,
    stream,
    messages,
    tools,
    deferred: [],
    search: null,
    structured:
      gc.responseMimeType === "application/json" ? { mode: "text", schema: schema || {} } : null,
    system: blockText(body.systemInstruction?.parts),
  };
}

function geminiResultText(response) {
  if (response == null) return "";
  if (typeof response === "string") return response;
  if (typeof response.output === "string") return response.output;
  if (Array.isArray(response.content)) return blockText(response.content);
  if (typeof response.error === "string") return response.error;
  return JSON.stringify(response);
}

// ───────────────────────── conversation analysis ─────────────────────────

// userTexts/assistantTexts, the turn number, the prompt, and a pending tool result (if the
// request is the CLI handing a tool result back).
function analyze(conv) {
  const calls = new Map();
  const userTexts = [];
  const assistantTexts = [];
  let prompt = null;
  for (const m of conv.messages) {
    for (const c of m.toolCalls) calls.set(c.id, c);
    if (m.role === "assistant") {
      const text = m.texts.join("");
      if (text.trim()) assistantTexts.push(text);
      continue;
    }
    // A tool result is not a prompt, unless it closed a finished structured answer and a new
    // prompt shares its message (a resumed claude --json-schema session sends both in one).
    if (m.toolResults.length && !newPromptAfterStructured(m, calls)) continue;
    const real = m.texts.map(realPart).filter((t) => t != null);
    if (real.length) {
      prompt = real.join("\n");
      userTexts.push(prompt);
    } else if (m.texts.length) {
      prompt = m.texts.join("\n"); // all injected (e.g. claude's "cut off" continuation): echo it
    }
  }
  const last = conv.messages[conv.messages.length - 1];
  let pending = null;
  if (last && last.toolResults.length && !newPromptAfterStructured(last, calls)) {
    const r = last.toolResults[last.toolResults.length - 1];
    const call = calls.get(r.id) || { name: r.name };
    pending = {
      name: call.name || r.name || "unknown",
      search: !!call.search || call.name === "ToolSearch",
      text: r.text,
      tools: r.tools,
    };
  }
  return {
    userTexts,
    assistantTexts,
    turn: assistantTexts.length + 1,
    prompt: prompt ?? "",
    pending,
  };
}

function newPromptAfterStructured(message, calls) {
  return (
    message.toolResults.every((r) => calls.get(r.id)?.name === "StructuredOutput") &&
    message.texts.some((t) => realPart(t) != null)
  );
}

// NAME matches exactly or as a suffix after "__"/"_" (mcp__mini__echo_marker, mcp_mini_echo_marker).
function nameMatches(full, name) {
  return full === name || full.endsWith(`__${name}`) || full.endsWith(`_${name}`);
}

function findTool(tools, name) {
  return (tools || []).find(
    (t) => nameMatches(`${t.namespace || ""}${t.name}`, name) || nameMatches(t.name, name),
  );
}

// Decide which tool call to emit for [[mock:tool=…]], searching first when the tool is deferred.
function planToolCall(conv, analysis, spec) {
  const pending = analysis.pending;
  const direct =
    findTool(conv.tools, spec.name) || (pending?.search && findTool(pending.tools, spec.name));
  if (direct) return { name: direct.name, namespace: direct.namespace, args: spec.args };
  const deferredName = conv.deferred.find((n) => nameMatches(n, spec.name));
  if (pending?.search) {
    // The search came back but the tool is still not listed: call it by its deferred name.
    return deferredName ? { name: deferredName, args: spec.args } : null;
  }
  if (conv.search?.kind === "claude" && deferredName) {
    return { name: conv.search.name, args: { query: `select:${deferredName}`, max_results: 5 } };
  }
  if (conv.search?.kind === "qwen" && deferredName)
    return { name: conv.search.name, args: { name: deferredName, arguments: spec.args } };
  if (conv.search?.kind === "codex") return { search: true, args: { query: spec.name, limit: 8 } };
  return null;
}

// ───────────────────────── JSON schema → example value ─────────────────────────

function fromSchema(schema, text, root = schema, depth = 0) {
  if (!schema || typeof schema !== "object" || depth > 12) return text;
  if (schema.$ref) {
    const target = schema.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce((o, k) => o?.[k], root);
    return fromSchema(target, text, root, depth + 1);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const alt = schema.anyOf || schema.oneOf || schema.allOf;
  if (Array.isArray(alt) && alt.length)
    return fromSchema(alt.find((s) => s.type !== "null") || alt[0], text, root, depth + 1);
  const types = [].concat(
    schema.type || (schema.properties ? "object" : schema.items ? "array" : "string"),
  );
  const type = String(
    types.find((t) => String(t).toLowerCase() !== "null") || types[0],
  ).toLowerCase();
  switch (type) {
    case "object": {
      const obj = {};
      for (const [k, s] of Object.entries(schema.properties || {}))
        obj[k] = fromSchema(s, text, root, depth + 1);
      return obj;
    }
    case "array": {
      const n = Math.min(Math.max(schema.minItems || 0, 1), schema.maxItems ?? 1);
      return Array.from({ length: n }, () => fromSchema(schema.items, text, root, depth + 1));
    }
    case "integer":
    case "number": {
      const min =
        schema.minimum ??
        (schema.exclusiveMinimum != null ? schema.exclusiveMinimum + 1 : -Infinity);
      const max =
        schema.maximum ??
        (schema.exclusiveMaximum != null ? schema.exclusiveMaximum - 1 : Infinity);
      return Math.min(Math.max(10, min), max);
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default: {
      let s = String(text);
      if (schema.maxLength != null) s = s.slice(0, schema.maxLength);
      if (schema.minLength != null && s.length < schema.minLength)
        s = s.padEnd(schema.minLength, "x");
      return s;
    }
  }
}

// ───────────────────────── reply text ─────────────────────────

// Filler never repeats exactly: gemini-cli stops a reply whose 50-char windows recur within
// 250 chars ("Loop detected"), so words get a cycle number and lines a counter.
function fillerWords(n) {
  return Array.from({ length: n }, (_, i) => {
    const cycle = Math.floor(i / FILLER.length);
    return `${FILLER[i % FILLER.length]}${cycle ? cycle : ""}`;
  }).join(" ");
}

// Pad text with ASCII lines ("000001 lorem …", < 50 chars each) to exactly `n` UTF-8 bytes.
function padToBytes(text, n) {
  const need = n - Buffer.byteLength(text);
  if (need <= 0) return text;
  const lines = [];
  let size = 0;
  for (let k = 1; size < need; k++) {
    const line = `\n${String(k).padStart(6, "0")} lorem ipsum dolor sit amet consectetur`;
    lines.push(line);
    size += line.length;
  }
  return text + lines.join("").slice(0, need);
}

function replyText(turn, analysis, mods) {
  if (analysis.pending && !analysis.pending.search) {
    const result = headChars(collapse(stripMarkers(analysis.pending.text)), 200);
    return `MOCK-REPLY ${turn}: tool ${analysis.pending.name} -> ${result}`;
  }
  let text =
    mods.reply ?? `MOCK-REPLY ${turn}: ${headChars(collapse(stripMarkers(analysis.prompt)), 40)}`;
  if (mods.words) text += ` ${fillerWords(mods.words)}`;
  if (mods.bytes) text = padToBytes(text, mods.bytes);
  return text;
}

// ───────────────────────── dialect writers ─────────────────────────
// Each writer turns a plan into SSE chunks (streaming) or a JSON body, and knows its error shape.
// plan = { id, model, text, call?, usage: {input, output} | null, truncate, streamError }

const PAUSE = 50; // a number in a chunk list = pause that many ms (keeps writes apart)
const sse = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const dataLine = (obj) => `data: ${typeof obj === "string" ? obj : JSON.stringify(obj)}\n\n`;

const anthropicWriter = {
  errorType(status) {
    const types = {
      400: "invalid_request_error",
      401: "authentication_error",
      403: "permission_error",
      404: "not_found_error",
      413: "request_too_large",
      429: "rate_limit_error",
      529: "overloaded_error",
    };
    return types[status] || "api_error";
  },
  error(status, message) {
    return {
      type: "error",
      error: { type: this.errorType(status), message },
      request_id: `req_mock${randHex(8)}`,
    };
  },
  content(plan) {
    if (plan.call)
      return [{ type: "tool_use", id: plan.call.id, name: plan.call.name, input: plan.call.args }];
    return [{ type: "text", text: plan.text }];
  },
  usage(plan, output) {
    // Claude's stream accumulator needs a usage object: "nousage" sends zeros.
    const u = plan.usage || { input: 0, output: 0 };
    return {
      input_tokens: u.input,
      output_tokens: output ?? u.output,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: "standard",
    };
  },
  json(plan) {
    return {
      id: plan.id,
      type: "message",
      role: "assistant",
      model: plan.model,
      content: this.content(plan),
      stop_reason: plan.call ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: this.usage(plan),
    };
  },
  chunks(plan) {
    const out = [
      sse("message_start", {
        message: {
          id: plan.id,
          type: "message",
          role: "assistant",
          model: plan.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: this.usage(plan, plan.usage ? 1 : 0),
        },
      }),
    ];
    const block = plan.call
      ? { type: "tool_use", id: plan.call.id, name: plan.call.name, input: {} }
      : { type: "text", text: "" };
    out.push(sse("content_block_start", { index: 0, content_block: block }));
    out.push(sse("ping", {}));
    const pieces = plan.call ? deltas(JSON.stringify(plan.call.args)) : deltas(plan.text);
    for (const piece of pieces) {
      const delta = plan.call
        ? { type: "input_json_delta", partial_json: piece }
        : { type: "text_delta", text: piece };
      out.push(sse("content_block_delta", { index: 0, delta }));
      if (plan.streamError) {
        const error = { type: "overloaded_error", message: "mock injected in-stream error" };
        return [...out, sse("error", { error })]; // after the first delta
      }
    }
    out.push(sse("content_block_stop", { index: 0 }));
    if (plan.truncate) return out; // no message_delta (stop_reason) and no message_stop
    out.push(
      sse("message_delta", {
        delta: { stop_reason: plan.call ? "tool_use" : "end_turn", stop_sequence: null },
        usage: { output_tokens: plan.usage ? plan.usage.output : 0 },
      }),
    );
    out.push(sse("message_stop", {}));
    return out;
  },
};

const responsesWriter = {
  error(status, message) {
    const type =
      status === 429
        ? "rate_limit_exceeded"
        : status >= 500
          ? "server_error"
          : "invalid_request_error";
    return { error: { message, type, param: null, code: type } };
  },
  usage(plan) {
    if (!plan.usage) return null;
    const { input, output } = plan.usage;
    return {
      input_tokens: input,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: input + output,
    };
  },
  response(plan, status, output, extra = {}) {
    return {
      id: plan.id,
      object: "response",
      created_at: plan.created,
      model: plan.model,
      status,
      output,
      usage: status === "completed" ? this.usage(plan) : null,
      error: null,
      incomplete_details: null,
      instructions: null,
      parallel_tool_calls: true,
      tool_choice: "auto",
      tools: [],
      ...extra,
    };
  },
  item(plan, done) {
    const status = done ? "completed" : "in_progress";
    if (plan.call?.search) {
      return {
        id: plan.call.itemId,
        type: "tool_search_call",
        call_id: plan.call.id,
        status,
        execution: "client",
        arguments: plan.call.args,
      };
    }
    if (plan.call) {
      const item = {
        id: plan.call.itemId,
        type: "function_call",
        status,
        arguments: done ? JSON.stringify(plan.call.args) : "",
        call_id: plan.call.id,
        name: plan.call.name,
      };
      if (plan.call.namespace) item.namespace = plan.call.namespace;
      return item;
    }
    const content = done ? [{ type: "output_text", text: plan.text, annotations: [] }] : [];
    return { id: plan.itemId, type: "message", status, role: "assistant", content };
  },
  json(plan) {
    return this.response(plan, "completed", [this.item(plan, true)]);
  },
  chunks(plan) {
    let seq = 0;
    const ev = (type, data) => sse(type, { sequence_number: seq++, ...data });
    const out = [ev("response.created", { response: this.response(plan, "in_progress", []) })];
    out.push(ev("response.in_progress", { response: this.response(plan, "in_progress", []) }));
    out.push(ev("response.output_item.added", { output_index: 0, item: this.item(plan, false) }));
    const failed = () =>
      ev("response.failed", {
        response: this.response(plan, "failed", [], {
          error: { code: "server_error", message: "mock injected in-stream error" },
        }),
      });
    if (plan.call && !plan.call.search) {
      const args = JSON.stringify(plan.call.args);
      for (const piece of deltas(args)) {
        const delta = { item_id: plan.call.itemId, output_index: 0, delta: piece };
        out.push(ev("response.function_call_arguments.delta", delta));
        if (plan.streamError) return [...out, failed()]; // after the first delta
      }
      out.push(
        ev("response.function_call_arguments.done", {
          item_id: plan.call.itemId,
          output_index: 0,
          arguments: args,
        }),
      );
    } else if (!plan.call) {
      const base = { item_id: plan.itemId, output_index: 0, content_index: 0 };
      out.push(
        ev("response.content_part.added", {
          ...base,
          part: { type: "output_text", text: "", annotations: [] },
        }),
      );
      for (const piece of deltas(plan.text)) {
        out.push(ev("response.output_text.delta", { ...base, delta: piece, logprobs: [] }));
        if (plan.streamError) return [...out, failed()]; // after the first delta
      }
      out.push(ev("response.output_text.done", { ...base, text: plan.text, logprobs: [] }));
      out.push(
        ev("response.content_part.done", {
          ...base,
          part: { type: "output_text", text: plan.text, annotations: [] },
        }),
      );
    } else if (plan.streamError) {
      return [...out, failed()];
    }
    out.push(ev("response.output_item.done", { output_index: 0, item: this.item(plan, true) }));
    if (plan.truncate) return out; // no response.completed
    out.push(
      ev("response.completed", {
        response: this.response(plan, "completed", [this.item(plan, true)]),
      }),
    );
    return out;
  },
};

const chatWriter = {
  error: responsesWriter.error,
  toolCall(plan) {
    const args = JSON.stringify(plan.call.args);
    return {
      id: plan.call.id,
      type: "function",
      function: { name: plan.call.name, arguments: args },
    };
  },
  usage(plan) {
    return plan.usage
      ? {
          prompt_tokens: plan.usage.input,
          completion_tokens: plan.usage.output,
          total_tokens: plan.usage.input + plan.usage.output,
        }
      : undefined;
  },
  json(plan) {
    return {
      id: plan.id,
      object: "chat.completion",
      created: plan.created,
      model: plan.model,
      choices: [
        plan.call
          ? {
              index: 0,
              message: { role: "assistant", content: null, tool_calls: [this.toolCall(plan)] },
              finish_reason: "tool_calls",
            }
          : { index: 0, message: { role: "assistant", content: plan.text }, finish_reason: "stop" },
      ],
      usage: this.usage(plan),
    };
  },
  chunks(plan) {
    const chunk = (delta, finish = null, extra = {}) =>
      dataLine({
        id: plan.id,
        object: "chat.completion.chunk",
        created: plan.created,
        model: plan.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...extra,
      });
    const out = [chunk({ role: "assistant", content: "" })];
    if (plan.call) {
      // The call whole in one delta (id and name first, as the real API sends them), then its finish.
      out.push(chunk({ tool_calls: [{ index: 0, ...this.toolCall(plan) }] }));
      if (plan.streamError)
        return [...out, dataLine({ error: { message: "mock injected in-stream error" } })];
      if (plan.truncate) return out;
      out.push(chunk({}, "tool_calls", plan.usage ? { usage: this.usage(plan) } : {}));
      out.push(dataLine("[DONE]"));
      return out;
    }
    for (const piece of deltas(plan.text)) {
      out.push(chunk({ content: piece }));
      if (plan.streamError) {
        const error = { message: "mock injected in-stream error", type: "server_error" };
        return [...out, dataLine({ error })];
      }
    }
    if (plan.truncate) return out;
    out.push(chunk({}, "stop", plan.usage ? { usage: this.usage(plan) } : {}));
    out.push(dataLine("[DONE]"));
    return out;
  },
};

const geminiWriter = {
  statusName(status) {
    const names = {
      400: "INVALID_ARGUMENT",
      401: "UNAUTHENTICATED",
      403: "PERMISSION_DENIED",
      404: "NOT_FOUND",
      409: "ABORTED",
      429: "RESOURCE_EXHAUSTED",
      499: "CANCELLED",
      501: "UNIMPLEMENTED",
      503: "UNAVAILABLE",
      504: "DEADLINE_EXCEEDED",
    };
    return names[status] || (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
  },
  error(status, message) {
    return { error: { code: status, message, status: this.statusName(status) } };
  },
  usage(plan) {
    if (!plan.usage) return undefined;
    const { input, output } = plan.usage;
    return {
      promptTokenCount: input,
      candidatesTokenCount: output,
      totalTokenCount: input + output,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: input }],
    };
  },
  chunk(plan, parts, last) {
    const cand = { content: { parts, role: "model" } };
    if (last && !plan.truncate) cand.finishReason = "STOP";
    cand.index = 0;
    const obj = { candidates: [cand] };
    if (last && plan.usage) obj.usageMetadata = this.usage(plan);
    obj.modelVersion = plan.model;
    obj.responseId = plan.id;
    return obj;
  },
  objects(plan) {
    if (plan.call)
      return [
        this.chunk(plan, [{ functionCall: { name: plan.call.name, args: plan.call.args } }], true),
      ];
    const pieces = deltas(plan.text);
    return pieces.map((piece, i) => this.chunk(plan, [{ text: piece }], i === pieces.length - 1));
  },
  json(plan) {
    const parts = plan.call
      ? [{ functionCall: { name: plan.call.name, args: plan.call.args } }]
      : [{ text: plan.text }];
    return this.chunk({ ...plan, truncate: false }, parts, true);
  },
  chunks(plan) {
    const objs = this.objects(plan);
    // @google/genai only recognises a bare {"error":…} chunk as an in-stream error.
    const chunks = plan.sse
      ? objs.map((o) => dataLine(o))
      : objs.map((o, i) => `${i ? ",\r\n" : "["}${JSON.stringify(o)}`).concat("]");
    if (!plan.streamError) return chunks;
    // @google/genai only spots an in-stream error when one network read is exactly a bare
    // {"error":…} JSON (no "data:" prefix), so it goes out alone after a short pause.
    const error = JSON.stringify(this.error(503, "mock injected in-stream error"));
    return [chunks[0], PAUSE, error];
  },
};

// ───────────────────────── routing ─────────────────────────

const GEMINI_RE =
  /\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens|embedContent|batchEmbedContents)$/;

function route(method, pathname, headers) {
  if (method === "POST" && /\/v1\/messages\/count_tokens$/.test(pathname))
    return { dialect: "anthropic", op: "count_tokens" };
  if (method === "POST" && /\/v1\/messages$/.test(pathname))
    return { dialect: "anthropic", op: "messages" };
  if (method === "POST" && /\/responses$/.test(pathname))
    return { dialect: "openai", op: "responses" };
  if (method === "POST" && /\/chat\/completions$/.test(pathname))
    return { dialect: "openai", op: "chat" };
  const g = method === "POST" && GEMINI_RE.exec(pathname);
  if (g) return { dialect: "gemini", op: g[2], model: decodeURIComponent(g[1]) };
  const models = method === "GET" && /\/models(?:\/([^/:]+))?$/.exec(pathname);
  if (models) {
    const dialect =
      headers["x-goog-api-key"] || /\/v1beta\//.test(pathname)
        ? "gemini"
        : headers["anthropic-version"] || headers["x-api-key"]
          ? "anthropic"
          : "openai";
    return { dialect, op: "models", model: models[1] };
  }
  return null;
}

// Kind = what the request is for. Faults and markers only apply to "main".
function classify(dialect, op, conv, analysis) {
  if (op === "count_tokens" || op === "countTokens") return "count_tokens";
  if (op === "embedContent" || op === "batchEmbedContents") return "embed";
  const prompt = analysis.prompt;
  if (dialect === "gemini" && op === "generateContent") {
    // gemini-cli's turns stream; its unary calls are helpers (router, summary, next speaker…)
    const props = conv.structured?.schema?.properties || {};
    if (Object.keys(props).some((k) => /complexity/.test(k))) return "router";
    if (/^Summarize the user's primary intent/i.test(prompt)) return "summary";
    return "aux";
  }
  // claude's helpers carry no tools and a short system prompt (the main one is ~20k tokens)
  const helper = conv.tools.length === 0 && !conv.search && conv.system.length < 4000;
  if (dialect === "anthropic" && helper) {
    if (/^\s*<session>/.test(prompt) || /title/i.test(conv.system)) return "title";
    if (/summar/i.test(conv.system)) return "summary";
  }
  if (dialect === "openai" && /CONTEXT CHECKPOINT COMPACTION/.test(prompt + conv.system))
    return "summary";
  return "main";
}

// ───────────────────────── the server ─────────────────────────

export async function startMockApi({ port = 0, logFile = process.env.MOCK_LLM_LOG } = {}) {
  const state = { seq: 0, log: [], logBytes: 0, attempts: new Map(), queued: [] };
  const sockets = new Set();
  const timers = new Set();
  let closing = false;
  // Synchronous appends: a line is in the file before its response goes out.
  let logFd = logFile ? fs.openSync(logFile, "a") : null;

  const sleep = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function record(entry) {
    const line = JSON.stringify(entry);
    if (logFd !== null) fs.writeSync(logFd, `${line}\n`);
    state.log.push({ entry, size: line.length });
    state.logBytes += line.length;
    while (
      state.log.length > MAX_LOG_ENTRIES ||
      (state.logBytes > MAX_LOG_BYTES && state.log.length > 1)
    ) {
      state.logBytes -= state.log.shift().size;
    }
  }

  function baseEntry(req, url, dialect, kind) {
    return {
      seq: ++state.seq,
      ts: new Date().toISOString(),
      method: req.method,
      path: url.pathname,
      query: url.search,
      dialect,
      kind,
      model: null,
      stream: false,
      headers: redactHeaders(req.headers),
      turn: null,
      prompt: null,
      userTexts: [],
      assistantTexts: [],
      faults: [],
      attempt: null,
      status: null,
      reply: null,
      tool: null,
      body: null,
    };
  }

  function reset() {
    state.seq = 0;
    state.log = [];
    state.logBytes = 0;
    state.attempts.clear();
    state.queued = [];
  }

  function queueFault(spec, { dialect = "any", match = "" } = {}) {
    const parsed = parseSpec(String(spec));
    if (parsed.type === "unknown") throw new Error(`unknown fault spec: ${spec}`);
    // "xN" = the next N matching requests; no suffix = every matching request until reset().
    const entry = { spec: parsed, dialect, match, remaining: parsed.limit ?? Infinity };
    state.queued.push(entry);
    return {
      spec: parsed.spec,
      dialect,
      match,
      remaining: entry.remaining === Infinity ? null : entry.remaining,
    };
  }

  // Specs in force for a main request: prompt markers (within their xN budget) + queued faults.
  function activeSpecs(dialect, prompt) {
    const key = `${dialect}\n${prompt}`;
    const attempt = (state.attempts.get(key) || 0) + 1;
    state.attempts.set(key, attempt);
    const specs = findMarkers(prompt)
      .map(parseSpec)
      .filter((s) => s.type !== "fault" || s.limit == null || attempt <= s.limit);
    for (const q of state.queued) {
      if (
        (q.dialect === "any" || q.dialect === dialect) &&
        prompt.includes(q.match) &&
        q.remaining > 0
      ) {
        q.remaining -= 1;
        specs.push({ ...q.spec, limit: null });
      }
    }
    state.queued = state.queued.filter((q) => q.remaining > 0);
    return { specs, attempt };
  }

  // ── responses with faults ──

  function sendError(res, writer, status, message, headers = {}) {
    const retry = status === 408 || status === 409 || status === 429 || status >= 500;
    res.writeHead(status, {
      "content-type": "application/json",
      "x-should-retry": String(retry),
      "request-id": `req_mock${randHex(8)}`,
      ...headers,
    });
    res.end(JSON.stringify(writer.error(status, message)));
  }

  async function write(res, chunk) {
    if (res.destroyed || closing) return false;
    if (res.write(chunk)) return true;
    await new Promise((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
    return !res.destroyed;
  }

  // Headers + first chunk, then FIN (drop) or RST (drop-rst).
  async function cutAfterFirst(res, rst) {
    await new Promise((resolve) => res.socket.write("", resolve)); // let the first event reach the kernel
    await sleep(50);
    if (rst) res.socket.resetAndDestroy();
    else res.socket.end();
  }

  async function sendBody(res, chunks, contentType, f) {
    res.writeHead(200, {
      "content-type": contentType,
      "cache-control": "no-cache",
      "request-id": `req_mock${randHex(8)}`,
      "x-request-id": `req_mock${randHex(8)}`,
    });
    for (let i = 0; i < chunks.length; i++) {
      if (typeof chunks[i] === "number") await sleep(chunks[i]);
      else if (!(await write(res, chunks[i]))) return;
      if (i === 0 && (f.drop || f["drop-rst"])) return cutAfterFirst(res, !!f["drop-rst"]);
      if (i === 0 && f.stall) await sleep(f.stall.ms);
    }
    if (!closing) res.end();
  }

  // ── the model endpoints ──

  async function handleModel(req, res, url, r, raw, entry) {
    const body = parseJsonOr(raw, null);
    entry.body = body ?? raw;
    if (!body || typeof body !== "object") {
      entry.status = 400;
      record(entry);
      return sendError(res, writerFor(r), 400, "mock: request body is not JSON");
    }
    const sseGemini = r.dialect === "gemini" && url.searchParams.get("alt") === "sse";
    const conv = parseRequest(r, body);
    const analysis = analyze(conv);
    const kind = classify(r.dialect, r.op, conv, analysis);
    Object.assign(entry, {
      kind,
      model: conv.model ?? null,
      stream: conv.stream,
      turn: analysis.turn,
      prompt: analysis.prompt,
      userTexts: analysis.userTexts,
      assistantTexts: analysis.assistantTexts,
    });
    const input = ceil4(raw.length);
    if (kind === "count_tokens")
      return finishJson(
        res,
        entry,
        200,
        r.dialect === "gemini" ? { totalTokens: input } : { input_tokens: input },
      );
    if (kind === "embed") return finishJson(res, entry, 200, embedBody(r.op, body));

    const { specs, attempt } =
      kind === "main" ? activeSpecs(r.dialect, analysis.prompt) : { specs: [], attempt: null };
    entry.attempt = attempt;
    const f = {};
    const mods = {};
    for (const s of specs) {
      if (s.type === "fault") {
        f[s.name] = s;
        entry.faults.push(s.spec);
      } else mods[s.type] = s.type === "reply" ? s.text : s.type === "tool" ? s : (s.n ?? true);
    }
    const writer = writerFor(r);
    if (f.slow) await sleep(f.slow.ms);
    if (closing) return;
    if (f.hang) return record(entry); // never answer; close() destroys the socket
    if (f.close || f.reset) {
      record(entry);
      return f.reset ? req.socket.resetAndDestroy() : req.socket.end();
    }
    const errStatus =
      f.status?.status ??
      (f.overloaded ? (r.dialect === "anthropic" ? 529 : 429) : f.ratelimit ? 429 : null);
    if (errStatus) {
      const why = f.status ? "status" : f.overloaded ? "overloaded" : "ratelimit";
      entry.status = errStatus;
      record(entry);
      const headers = errStatus === 429 ? { "retry-after": f.ratelimit ? "1" : "0" } : {};
      return sendError(res, writer, errStatus, `mock injected ${errStatus} (${why})`, headers);
    }

    const plan = buildPlan(r, conv, analysis, kind, mods, input);
    plan.sse = sseGemini;
    plan.truncate = !!f.truncate;
    plan.streamError = !!f["stream-error"] && conv.stream;
    entry.status = 200;
    entry.reply =
      plan.text.length > REPLY_LOG_CHARS
        ? `${plan.text.slice(0, REPLY_LOG_CHARS)}…(${Buffer.byteLength(plan.text)} bytes)`
        : plan.text;
    entry.tool = plan.call ? (plan.call.search ? "tool_search" : plan.call.name) : null;
    record(entry);

    if (conv.stream) {
      const type =
        r.dialect === "gemini" && !sseGemini
          ? "application/json"
          : "text/event-stream; charset=utf-8";
      return sendBody(res, writer.chunks(plan), type, f);
    }
    let json = JSON.stringify(writer.json(plan));
    if (plan.truncate) json = json.slice(0, Math.floor(json.length / 2));
    return sendBody(res, splitText(json, 2), "application/json", f);
  }

  function finishJson(res, entry, status, obj) {
    entry.status = status;
    record(entry);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(obj));
  }

  // Reply text, tool call or structured answer for one request.
  function buildPlan(r, conv, analysis, kind, mods, input) {
    const plan = {
      id: `${r.dialect === "anthropic" ? "msg" : "resp"}_mock${String(state.seq).padStart(6, "0")}${randHex(6)}`,
      itemId: `msg_mock${randHex(9)}`,
      created: Math.floor(Date.now() / 1000),
      model: conv.model || "mock-model",
      text: "",
      call: null,
    };
    const turn = analysis.turn;
    if (mods.tool && (!analysis.pending || analysis.pending.search)) {
      const call = planToolCall(conv, analysis, mods.tool);
      if (call) {
        const id =
          r.dialect === "anthropic" ? `toolu_mock${randHex(10)}` : `call_mock${randHex(8)}`;
        plan.call = { ...call, id, itemId: `${call.search ? "tsc" : "fc"}_mock${randHex(8)}` };
      } else {
        plan.text = `MOCK-REPLY ${turn}: tool ${mods.tool.name} not offered`;
      }
    }
    if (!plan.call && !plan.text) {
      const text = replyText(turn, analysis, mods);
      if (conv.structured && !analysis.pending) {
        // A scripted JSON reply ([[mock:reply={…}]] or a queued reply=) is the structured answer.
        const scripted = mods.reply !== undefined ? parseJsonOr(mods.reply, undefined) : undefined;
        const value =
          scripted && typeof scripted === "object"
            ? scripted
            : fromSchema(conv.structured.schema, kind === "main" ? text : "mock");
        if (conv.structured.mode === "tool" && r.dialect === "anthropic")
          plan.call = { name: conv.structured.name, args: value, id: `toolu_mock${randHex(10)}` };
        else plan.text = JSON.stringify(value);
      } else plan.text = text;
    }
    const outLen = plan.call ? JSON.stringify(plan.call.args).length : plan.text.length;
    plan.usage = mods.nousage ? null : { input, output: ceil4(outLen) };
    return plan;
  }

  function embedBody(op, body) {
    const vec = () => Array.from({ length: 8 }, (_, i) => (i + 1) / 10);
    if (op === "batchEmbedContents")
      return { embeddings: (body.requests || []).map(() => ({ values: vec() })) };
    return { embedding: { values: vec() } };
  }

  function modelsBody(dialect, model) {
    const ids = {
      anthropic: ["claude-sonnet-4-5", "claude-opus-4-1"],
      openai: ["gpt-5.5"],
      gemini: ["gemini-2.5-pro", "gemini-2.5-flash"],
    }[dialect];
    if (dialect === "anthropic") {
      const data = ids.map((id) => ({
        type: "model",
        id,
        display_name: id,
        created_at: "2025-01-01T00:00:00Z",
      }));
      return model
        ? data[0]
        : { data, has_more: false, first_id: ids[0], last_id: ids[ids.length - 1] };
    }
    if (dialect === "gemini") {
      const models = ids.map((id) => ({
        name: `models/${id}`,
        displayName: id,
        supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
      }));
      return model ? models[0] : { models };
    }
    const data = ids.map((id) => ({ id, object: "model", created: 1735689600, owned_by: "mock" }));
    return model ? data[0] : { object: "list", data, models: [] };
  }

  // ── control routes, proxy sink, dispatch ──

  async function handleControl(req, res, url, raw) {
    const send = (status, obj) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(obj));
    };
    const p = url.pathname;
    if (req.method === "GET" && p === "/__mock/health")
      return send(200, { ok: true, seq: state.seq });
    if (req.method === "GET" && p === "/__mock/log") {
      const since = Number(url.searchParams.get("since") || 0);
      return send(
        200,
        state.log.map((l) => l.entry).filter((e) => e.seq > since),
      );
    }
    if (req.method === "POST" && p === "/__mock/reset") {
      reset();
      return send(200, { ok: true });
    }
    if (req.method === "POST" && p === "/__mock/fault") {
      const b = parseJsonOr(raw, {});
      try {
        return send(200, {
          ok: true,
          queued: queueFault(b.spec, { dialect: b.dialect || "any", match: b.match || "" }),
        });
      } catch (err) {
        return send(400, { ok: false, error: err.message });
      }
    }
    return send(404, {
      error: { type: "not_found", message: `mock: no control route ${req.method} ${p}` },
    });
  }

  function proxySink(req, res, url) {
    const entry = baseEntry(req, url, "proxy", "proxy");
    entry.path = req.url;
    entry.status = 403;
    record(entry);
    res.writeHead(403, { "content-type": "application/json", connection: "close" });
    res.end(
      JSON.stringify({
        error: { type: "forbidden", message: "mock-llm-api: outbound traffic is blocked" },
      }),
    );
  }

  async function onRequest(req, res) {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url);
    const url = new URL(
      absolute ? req.url : `http://${HOST}${req.url.startsWith("/") ? "" : "/"}${req.url}`,
    );
    let raw;
    try {
      raw = await readBody(req);
    } catch (err) {
      res.writeHead(413, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: { message: String(err.message) } }));
    }
    if (absolute) return proxySink(req, res, url);
    if (url.pathname.startsWith("/__mock/")) return handleControl(req, res, url, raw);
    const r = route(req.method, url.pathname, req.headers);
    if (!r) {
      const entry = baseEntry(req, url, "unknown", "unknown");
      entry.body = parseJsonOr(raw, raw || null);
      return finishJson(res, entry, 404, {
        error: {
          type: "not_found_error",
          message: `mock: no route for ${req.method} ${url.pathname}`,
        },
      });
    }
    const entry = baseEntry(req, url, r.dialect, r.op);
    if (r.op === "models") {
      entry.kind = "models";
      return finishJson(res, entry, 200, modelsBody(r.dialect, r.model));
    }
    return handleModel(req, res, url, r, raw, entry);
  }

  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    onRequest(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `mock internal error: ${err.stack || err}` } }));
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // CONNECT host:443 through the "proxy": refuse and log, so nothing leaves loopback.
  server.on("connect", (req, socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const entry = baseEntry(req, new URL(`http://${HOST}/`), "proxy", "proxy");
    entry.path = req.url;
    entry.status = 403;
    record(entry);
    socket.end(
      "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 35\r\nconnection: close\r\n\r\nmock-llm-api: outbound traffic off\n",
    );
  });
  server.on("clientError", (err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, resolve);
  });
  const actualPort = server.address().port;

  async function close() {
    closing = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
    if (logFd !== null) fs.closeSync(logFd);
    logFd = null;
  }

  return {
    url: `http://${HOST}:${actualPort}`,
    port: actualPort,
    log: () => state.log.map((l) => l.entry),
    reset,
    queueFault,
    close,
  };
}

function parseRequest(r, body) {
  if (r.dialect === "anthropic") return parseAnthropic(body);
  if (r.dialect === "gemini") return parseGemini(body, r.model, r.op === "streamGenerateContent");
  return r.op === "chat" ? parseChat(body) : parseResponses(body);
}

function writerFor(r) {
  if (r.dialect === "anthropic") return anthropicWriter;
  if (r.dialect === "gemini") return geminiWriter;
  return r.op === "chat" ? chatWriter : responsesWriter;
}

// Read the whole body, undoing gzip/deflate/br (and zstd where this node has it).
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw new Error("mock: request body too large");
    chunks.push(c);
  }
  let buf = Buffer.concat(chunks);
  const enc = String(req.headers["content-encoding"] || "").toLowerCase();
  try {
    if (enc === "gzip") buf = zlib.gunzipSync(buf);
    else if (enc === "deflate") buf = zlib.inflateSync(buf);
    else if (enc === "br") buf = zlib.brotliDecompressSync(buf);
    else if (enc === "zstd" && zlib.zstdDecompressSync) buf = zlib.zstdDecompressSync(buf);
  } catch {
    // leave the raw bytes; the JSON parse will fail and be logged
  }
  return buf.toString("utf8");
}

// ───────────────────────── CLI ─────────────────────────

function parseArgs(argv) {
  const opts = { port: 0, logFile: process.env.MOCK_LLM_LOG, portFile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") opts.port = Number(argv[++i]);
    else if (a === "--log") opts.logFile = argv[++i];
    else if (a === "--port-file") opts.portFile = argv[++i];
    else throw new Error(`unknown argument: ${a} (use --port N --log FILE --port-file F)`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const mock = await startMockApi({ port: opts.port, logFile: opts.logFile });
  if (opts.portFile) fs.writeFileSync(opts.portFile, `${mock.port}\n`);
  process.stdout.write(`MOCK_LLM_LISTENING ${mock.url}\n`);
  const stop = () => mock.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`mock-llm-api: ${err.stack || err}\n`);
    process.exit(1);
  });
}
