import { errorText, GatewayError } from "../../errors.js";

/** Tool errors carry their category in front of the message: `[invalid_input] ...`. */
export function toolError(err: unknown) {
  const category = err instanceof GatewayError ? err.category : "internal";
  const message = err instanceof Error ? err.message : String(err);
  return {
    isError: true,
    content: [{ type: "text" as const, text: errorText(category, message) }],
  };
}
