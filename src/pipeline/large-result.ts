// A result whose run kept large texts as bytes (process/large-text.ts): what stays a placeholder
// and what is decoded. Only a reply's text stays (its transport writes it from the bytes); every
// other string is expanded, so nothing else ever sees a placeholder.
import {
  expandLargeText,
  largeTextIds,
  largeTextIdsIn,
  releaseLargeText,
} from "../process/large-text.js";
import type { GatewayResult } from "../request.js";

/**
 * Expands the result's large texts, all but its text's when `keepText`, and forgets those it no
 * longer refers to (claude's assistant event repeats the answer the result event carries).
 * `raw`, read only for outputFormat json (which expands it), is dropped when it still has one.
 */
export function settleLargeTexts(result: GatewayResult, ids: number[], keepText: boolean): void {
  if (keepText && largeTextIdsIn(result.raw).length) result.raw = undefined;
  for (const key of Object.keys(result) as (keyof GatewayResult)[])
    if (key !== "text" || !keepText) expandIn(result, key);
  const stays = new Set(keepText ? largeTextIds(result.text) : []);
  releaseLargeText(ids.filter((id) => !stays.has(id)));
}

/** Replaces the strings under `holder[key]` with their expansion, in place. */
function expandIn(holder: object, key: PropertyKey, depth = 0): void {
  const record = holder as Record<PropertyKey, unknown>;
  const value = record[key];
  if (typeof value === "string") record[key] = expandLargeText(value);
  else if (value && typeof value === "object" && depth < 20)
    for (const k of Object.keys(value)) expandIn(value, k, depth + 1);
}
