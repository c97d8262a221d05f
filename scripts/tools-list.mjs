// Writes dist/tools-list.json, the tools/list answer, so the gateway can answer tools/list before
// it has loaded zod and the tool modules (see src/mcp/early-stdio.ts).
import { writeFileSync } from "node:fs";
import { buildTools } from "../dist/mcp/server.js";

const list = buildTools({}).list();
writeFileSync(new URL("../dist/tools-list.json", import.meta.url), JSON.stringify(list));
