/** Everything in `text` that must appear byte-exact in any optimized version of it. */
export function mustSurvive(text: string): string[];
/** The items of `original` that `optimized` lost (empty when the check passes). */
export function missingItems(original: string, optimized: string): string[];
