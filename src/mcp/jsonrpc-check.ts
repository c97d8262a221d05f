/**
 * Checks one incoming line against JSON-RPC 2.0 as MCP uses it (no batches, ids are strings or
 * integers, params an object, no other members), with the same rules as the SDK's schemas: what
 * passes here the SDK accepts, and what fails gets the error JSON-RPC prescribes instead of the
 * silence the SDK would give it. Kept free of runtime imports: it runs before the SDK has loaded.
 */

export type RequestId = string | number;

export interface IncomingMessage {
  jsonrpc: "2.0";
  id?: RequestId;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INTERNAL_ERROR = -32603;

export type Checked =
  | { ok: true; message: IncomingMessage }
  | { ok: false; id: RequestId | null; code: number; message: string };

const REQUEST_MEMBERS = new Set(["jsonrpc", "id", "method", "params"]);

export function checkLine(line: string): Checked {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return fail(null, PARSE_ERROR, `Parse error: ${(err as Error).message}`);
  }
  if (Array.isArray(value))
    return invalid(
      null,
      value.length === 0
        ? "an empty array is not a message"
        : "batches are not supported (MCP has none since protocol 2025-06-18): send one message per line",
    );
  if (!isObject(value)) return invalid(null, "a message must be a JSON object");
  if (!("method" in value)) return checkResponse(value);

  // An invalid request is answered with its id when the id itself is valid, so the client can
  // match the error to the call it made.
  const id = isId(value.id) ? value.id : null;
  if (value.jsonrpc !== "2.0") return invalid(id, `"jsonrpc" must be "2.0"`);
  if (typeof value.method !== "string") return invalid(id, `"method" must be a string`);
  if ("id" in value && id === null) return invalid(null, `"id" must be a string or an integer`);
  if ("params" in value && !isObject(value.params))
    return invalid(id, `"params" must be an object`);
  const extra = Object.keys(value).find((key) => !REQUEST_MEMBERS.has(key));
  if (extra !== undefined) return invalid(id, `unexpected member "${extra}"`);
  return { ok: true, message: value as unknown as IncomingMessage };
}

/**
 * The id of an oversized request, when its first bytes show one: a `"method"` and an `"id"` before
 * the first nested object (how JSON.stringify writes `{"jsonrpc","id","method","params"}`). Else
 * null: the error then goes out with `id: null`.
 */
export function idInHead(head: string): RequestId | null {
  const top = /^\s*\{([^{[]*)/.exec(head)?.[1];
  if (top === undefined || !/"method"\s*:\s*"/.test(top)) return null;
  const raw = /"id"\s*:\s*(-?\d+|"[^"\\]*")/.exec(top)?.[1];
  if (raw === undefined) return null;
  const id = JSON.parse(raw) as unknown;
  return isId(id) ? id : null;
}

/** A response from the client (to a request of the server's, e.g. elicitation). */
function checkResponse(value: Record<string, unknown>): Checked {
  if (!("result" in value) && !("error" in value)) return invalid(null, `"method" is missing`);
  // Never answered with the response's id: the client would take it for the answer to a call of its own.
  const members = Object.keys(value);
  const valid =
    value.jsonrpc === "2.0" &&
    ("result" in value
      ? isId(value.id) && isObject(value.result) && members.length === 3
      : (!("id" in value) || isId(value.id)) &&
        isObject(value.error) &&
        Number.isSafeInteger(value.error.code) &&
        typeof value.error.message === "string" &&
        members.length === ("id" in value ? 3 : 2));
  return valid
    ? { ok: true, message: value as unknown as IncomingMessage }
    : invalid(null, "not a valid JSON-RPC 2.0 response");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is RequestId {
  return typeof value === "string" || Number.isSafeInteger(value);
}

function invalid(id: RequestId | null, why: string): Checked {
  return fail(id, INVALID_REQUEST, `Invalid Request: ${why}`);
}

function fail(id: RequestId | null, code: number, message: string): Checked {
  return { ok: false, id, code, message };
}
