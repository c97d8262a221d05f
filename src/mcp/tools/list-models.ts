import type { ToolRegistry } from "../tool-list.js";
import { z } from "zod";
import { PROVIDERS } from "../../providers/index.js";
import { CLI_NAMES } from "../../providers/types.js";

const catalog = z.object({
  models: z.array(z.string()),
  aliases: z.record(z.string(), z.string()),
  cliAliases: z.array(z.string()),
  cliDefault: z.string(),
});

export function registerListModels(tools: ToolRegistry): void {
  tools.add(
    "list_models",
    {
      description:
        "List known models and aliases per CLI. Aliases map to model ids; cliAliases are resolved by the CLI itself; other ids pass through.",
      inputSchema: z.strictObject({ cli: z.enum(CLI_NAMES).optional() }),
      outputSchema: z.object({ clis: z.record(z.string(), catalog) }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ cli }) => {
      const names = cli ? [cli] : CLI_NAMES;
      const clis = Object.fromEntries(names.map((name) => [name, PROVIDERS[name].catalog]));
      return {
        content: [{ type: "text" as const, text: JSON.stringify(clis) }],
        structuredContent: { clis },
      };
    },
  );
}
