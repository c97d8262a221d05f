// Makes dist/main.js one file: the bin and the modules it loads before its first answer
// (mcp/early-stdio.ts and what it imports), so a cold start reads and links one ES module instead
// of nine (about 5 ms of the first tools/list, issue #22; docs/PERFORMANCE.md). Everything loaded
// later stays where tsc put it: dynamic imports are kept as they are.
//
// The bundled modules then exist twice once the gateway has loaded (here and in dist/), so only
// modules without state of their own may be bundled. process/large-text.ts keeps the texts and the
// token a reply's placeholders refer to: it stays a module of its own, shared by both.
import { rename } from "node:fs/promises";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const SHARED = [`${dist}process/large-text.js`];

const bundle = await rolldown({
  input: `${dist}main.js`,
  platform: "node",
  logLevel: "warn",
  plugins: [
    {
      name: "keep-lazy-and-shared-modules",
      async resolveId(source, importer, options) {
        if (!source.startsWith(".")) return null; // node: builtins and packages: as they are
        const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
        if (options.kind !== "dynamic-import" && !SHARED.includes(resolved.id)) return resolved;
        // Imported from the bundle, which sits where main.js was.
        return { id: `./${relative(dist, resolved.id)}`, external: true };
      },
    },
  ],
});
// Written beside it and renamed, so a failed bundle leaves tsc's main.js.
await bundle.write({ file: `${dist}main.bundle.js`, format: "esm" });
await bundle.close();
await rename(`${dist}main.bundle.js`, `${dist}main.js`);
