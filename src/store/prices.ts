import { readFileSync } from "node:fs";
import { PROVIDERS } from "../providers/index.js";
import type { Provider, Usage } from "../providers/types.js";

/**
 * Model prices for cost *estimates*, in US dollars per million tokens. Used only when the CLI
 * reports no cost (codex and gemini never do; claude does), and the recorder then marks the row
 * `cost_estimated = 1`.
 *
 * These are illustrative defaults, not a price list: providers change prices, discount cached
 * tokens differently and bill by plan. Override or extend them with a JSON file named by
 * `LLM_GATEWAY_PRICES` (same shape as DEFAULT_PRICES; see docs/SCHEMA.md).
 */
export interface ModelPrice {
  /** Uncached input tokens. */
  input: number;
  /** Output tokens (reasoning tokens are billed as output). */
  output: number;
  /** Input tokens read from the prompt cache. Default: the input price. */
  cacheRead?: number;
  /** Input tokens written to the prompt cache. Default: the input price. */
  cacheWrite?: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

const anthropic = (input: number, output: number): ModelPrice => ({
  input,
  output,
  cacheRead: input / 10,
  cacheWrite: input * 1.25,
});

export const DEFAULT_PRICES: PriceTable = {
  // claude (claude reports its own cost; these cover rows where it did not)
  "claude-opus-5-5": anthropic(5, 25),
  "claude-sonnet-5-5": anthropic(3, 15),
  "claude-haiku-5-5": anthropic(1, 5),
  "claude-sonnet-4-5": anthropic(3, 15),
  "claude-opus-4-8": anthropic(5, 25),
  opus: anthropic(5, 25),
  sonnet: anthropic(3, 15),
  haiku: anthropic(1, 5),
  // codex
  "gpt-6.1-sol": { input: 1.25, output: 10, cacheRead: 0.125 },
  "gpt-6-sol": { input: 1.25, output: 10, cacheRead: 0.125 },
  "gpt-5.5": { input: 1.25, output: 10, cacheRead: 0.125 },
  // gemini
  "gemini-3.1-pro-preview": { input: 2, output: 12, cacheRead: 0.2 },
  "gemini-3-flash-preview": { input: 0.5, output: 3, cacheRead: 0.05 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cacheRead: 0.125 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cacheRead: 0.03 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4, cacheRead: 0.01 },
  // the CLIs added since declare their prices in their providers
  ...Object.fromEntries(
    Object.values(PROVIDERS).flatMap((p: Provider) => Object.entries(p.prices ?? {})),
  ),
};

/** The price for a model id: exact (case-insensitive), else the longest table key it starts with. */
export function findPrice(
  table: PriceTable,
  model: string | null | undefined,
): ModelPrice | undefined {
  if (!model) return undefined;
  const id = model.toLowerCase();
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    const k = key.toLowerCase();
    if (k === id) return table[key];
    if (id.startsWith(k) && /[-_.@:]/.test(id[k.length] ?? "") && (!best || k.length > best.length))
      best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** Estimated cost in USD, or undefined when the model has no price or nothing was counted. */
export function estimateCost(
  table: PriceTable,
  cli: string,
  model: string | null | undefined,
  usage: Usage | undefined,
): number | undefined {
  const price = findPrice(table, model);
  if (!price || !usage) return undefined;
  // How the CLI counts tokens, as its provider declares (a name no provider has: as reported).
  const rules = (PROVIDERS as Partial<Record<string, Provider>>)[cli]?.tokens ?? {
    inputIncludesCacheRead: false,
    reasoningInOutput: true,
  };
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const input = Math.max(
    0,
    (usage.inputTokens ?? 0) - (rules.inputIncludesCacheRead ? cacheRead : 0),
  );
  const output =
    (usage.outputTokens ?? 0) + (rules.reasoningInOutput ? 0 : (usage.reasoningTokens ?? 0));
  if (input + output + cacheRead + cacheWrite === 0) return undefined;
  const usd =
    (input * price.input +
      output * price.output +
      cacheRead * (price.cacheRead ?? price.input) +
      cacheWrite * (price.cacheWrite ?? price.input)) /
    1_000_000;
  return Math.round(usd * 1e8) / 1e8;
}

/**
 * Reads a price file: `{ "model-id": { "input": 1.25, "output": 10, "cacheRead": 0.125 }, ... }`,
 * USD per million tokens. Keys starting with `$` (like `"$comment"`) are ignored. Throws a message
 * naming the file and the entry when the file is not that shape.
 */
export function loadPriceFile(path: string): PriceTable {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(
      `LLM_GATEWAY_PRICES: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new Error(`LLM_GATEWAY_PRICES: ${path} must hold a JSON object of model prices`);
  const table: Record<string, ModelPrice> = {};
  for (const [model, value] of Object.entries(data)) {
    if (model.startsWith("$")) continue;
    const p = value as Record<string, unknown>;
    const ok =
      typeof p === "object" &&
      p !== null &&
      isPrice(p.input) &&
      isPrice(p.output) &&
      (p.cacheRead === undefined || isPrice(p.cacheRead)) &&
      (p.cacheWrite === undefined || isPrice(p.cacheWrite));
    if (!ok)
      throw new Error(
        `LLM_GATEWAY_PRICES: ${path}: "${model}" needs numeric "input" and "output" (USD per million tokens), and optionally "cacheRead" and "cacheWrite"`,
      );
    table[model] = {
      input: p.input as number,
      output: p.output as number,
      ...(p.cacheRead !== undefined && { cacheRead: p.cacheRead as number }),
      ...(p.cacheWrite !== undefined && { cacheWrite: p.cacheWrite as number }),
    };
  }
  return table;
}

const isPrice = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
