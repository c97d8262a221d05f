import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { optimizePrompt, optimizeResponse } from "../../src/optimize/index.js";
import { missingItems, mustSurvive } from "../helpers/preservation.mjs";

const CORPUS = join(import.meta.dirname, "..", "fixtures", "optimize-corpus");
const load = (kind: "prompts" | "responses") =>
  readdirSync(join(CORPUS, kind))
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((f) => ({ name: f, text: readFileSync(join(CORPUS, kind, f), "utf8") }));
const prompts = load("prompts");
const responses = load("responses");

const missing = missingItems;

describe("preservation on the corpus", () => {
  it("has at least 50 prompts and 50 responses", () => {
    expect(prompts.length).toBeGreaterThanOrEqual(50);
    expect(responses.length).toBeGreaterThanOrEqual(50);
  });

  it.each(prompts)("prompt $name: every protected item survives byte-exact", ({ text }) => {
    const out = optimizePrompt(text).text;
    expect(missing(text, out)).toEqual([]);
  });

  it.each(responses)("response $name: every protected item survives byte-exact", ({ text }) => {
    const out = optimizeResponse(text).text;
    expect(missing(text, out)).toEqual([]);
  });

  it.each([...prompts, ...responses])(
    "$name: optimizing twice equals optimizing once",
    ({ text }) => {
      const p = optimizePrompt(text).text;
      expect(optimizePrompt(p).text).toBe(p);
      const r = optimizeResponse(text).text;
      expect(optimizeResponse(r).text).toBe(r);
    },
  );

  it.each([...prompts, ...responses])(
    "$name: JSON mode returns the response unchanged",
    ({ text }) => {
      expect(optimizeResponse(text, { json: true })).toEqual({
        text,
        originalChars: text.length,
        optimizedChars: text.length,
        transformations: [],
      });
    },
  );

  it("reports sizes and rule names consistently", () => {
    for (const { text } of prompts) {
      const r = optimizePrompt(text);
      expect(r.originalChars).toBe(text.length);
      expect(r.optimizedChars).toBe(r.text.length);
      expect(r.optimizedChars).toBeLessThanOrEqual(r.originalChars);
      expect(r.transformations.length > 0).toBe(r.text !== text);
    }
  });

  it("the extractor itself finds what it should (so the check can fail)", () => {
    const items = mustSurvive(
      'Run `npm ci` in src/app.ts, see https://x.example/a?b=1. Call fooBar and max_retries, os.path.join, "a  b", --dry-run 1.5\n```js\nx  =  1\n```',
    );
    for (const item of [
      "`npm ci`",
      "src/app.ts",
      "https://x.example/a?b=1",
      "fooBar",
      "max_retries",
      "os.path.join",
      '"a  b"',
      "--dry-run",
      "1.5",
      "```js\nx  =  1\n```",
    ]) {
      expect(items).toContain(item);
    }
    expect(missing("keep `a  b` here", "keep `a b` here")).toEqual(["`a  b`"]);
  });

  it("catches a careless optimizer on the corpus (the check has teeth)", () => {
    const careless = (t: string) => t.replace(/[ \t]+/g, " ").replace(/\n{3,}/g, "\n\n");
    const caught = [...prompts, ...responses].filter(
      (f) => missing(f.text, careless(f.text)).length,
    );
    expect(caught.length).toBeGreaterThanOrEqual(30);
  });
});

describe("optimizeResponse JSON handling", () => {
  it("never changes a response when the caller asked for JSON, even a chatty one", () => {
    const text = 'Sure! Here it is:\n\n\n\n{\n  "a": 1\n}   \n\nI hope this helps!';
    expect(optimizeResponse(text, { json: true }).text).toBe(text);
  });

  it("leaves a response that is a JSON document alone", () => {
    const text = '{\n  "verdict": "ok",\n  "findings": []\n}\n';
    expect(optimizeResponse(text)).toMatchObject({ text, transformations: [] });
  });
});

describe("rules", () => {
  const p = (text: string) => optimizePrompt(text);
  const r = (text: string) => optimizeResponse(text);

  it("ansi-codes: strips colour codes outside code, keeps them inside fences", () => {
    const out = p("\x1b[31mERROR\x1b[0m failed\n```\n\x1b[32mok\x1b[0m\n```");
    expect(out.text).toBe("ERROR failed\n```\n\x1b[32mok\x1b[0m\n```");
    expect(out.transformations).toContain("ansi-codes");
  });

  it("ansi-codes: a bare [31m without ESC is text and stays", () => {
    expect(p("timeout [5m] and [31m").text).toBe("timeout [5m] and [31m");
  });

  it("line-endings: CRLF becomes LF outside code blocks only", () => {
    const out = p("a\r\nb\r\n```\r\nc\r\n```\r\nd");
    // A fence runs to the end of its closing line, "\r" included.
    expect(out.text).toBe("a\nb\n```\r\nc\r\n```\r\nd");
    expect(out.transformations).toContain("line-endings");
  });

  it("trailing-whitespace and blank-lines and trim-ends", () => {
    const out = p("\n\n  indented first line   \n\n\n\n\nsecond\t\n\n");
    expect(out.text).toBe("  indented first line\n\nsecond");
    expect(out.transformations).toEqual(["trailing-whitespace", "blank-lines", "trim-ends"]);
  });

  it("space-runs: collapses runs inside prose but keeps indentation, tabs and quoted text", () => {
    const out = p('    return  x;  // note\n\nSee  "a   b"  and `c   d`.\n\ncol1\t\tcol3');
    expect(out.text).toBe('    return x; // note\n\nSee "a   b" and `c   d`.\n\ncol1\t\tcol3');
    expect(out.transformations).toEqual(["space-runs"]);
  });

  it("space-runs: keeps the indentation after a diff marker or a line-number gutter", () => {
    for (const line of ["+    return  x", "  41 |     const a  =  1;", "│   ├── src"]) {
      const out = p(line).text;
      expect(out.startsWith(line.slice(0, line.search(/[A-Za-z]/)))).toBe(true);
    }
    expect(p("+    return  x").text).toBe("+    return x");
  });

  it("space-runs: leaves aligned columns alone (an empty cell is a wider gap)", () => {
    const table =
      "NAME      READY   STATUS    PORTS\nweb-1     1/1     Running   8080\nweb-2     0/1               \nworker    1/1     Running";
    expect(p(table).text).toBe(table.replace(/[ \t]+$/gm, ""));
  });

  it("table-padding: compacts markdown tables", () => {
    const out = p("| a     | b    |\n|:------|-----:|\n| 1     | two  |");
    expect(out.text).toBe("| a | b |\n|:---|---:|\n| 1 | two |");
    expect(out.transformations).toContain("table-padding");
  });

  it("repeated-lines: merges consecutive identical lines when that is shorter", () => {
    const line = "WARN retrying connection to db:5432";
    const out = p(["start", line, line, line, line, "end"].join("\n"));
    expect(out.text).toBe(`start\n${line}\n[previous line repeated 3 times]\nend`);
    expect(out.transformations).toContain("repeated-lines");
  });

  it("repeated-lines and space-runs together reach a fixed point in one pass", () => {
    const warn = "npm WARN deprecated uuid@3.4.0: Please upgrade  to version 7.  See the docs.";
    const text = ["start", warn, warn, warn, "end"].join("\n");
    const once = p(text).text;
    expect(once).toBe(
      `start\n${warn.replace(/ {2}/g, " ")}\n[previous line repeated 2 times]\nend`,
    );
    expect(p(once).text).toBe(once);
  });

  it("repeated-lines: keeps short repeats, code blocks and table rows", () => {
    expect(p("}\n}\n}").text).toBe("}\n}\n}");
    const fenced =
      "```\nsame line here, long enough\nsame line here, long enough\nsame line here, long enough\n```";
    expect(p(fenced).text).toBe(fenced);
    const rows = "| x | y |\n| x | y |\n| x | y |\n| x | y |";
    expect(p(rows).text).toBe(rows);
  });

  it("json-compaction: whitespace only, numbers and strings exactly as written", () => {
    const out = p(
      'Payload:\n{\n  "id": 12345678901234567890,\n  "ratio": 1.0,\n  "e": 1e5,\n  "name": "a  b \\u00e9",\n  "list": [\n    1,\n    2\n  ]\n}\nwhy?',
    );
    expect(out.text).toBe(
      'Payload:\n{"id":12345678901234567890,"ratio":1.0,"e":1e5,"name":"a  b \\u00e9","list":[1,2]}\nwhy?',
    );
    expect(out.transformations).toContain("json-compaction");
  });

  it("json-compaction: invalid JSON, JS objects and fenced JSON stay as they are", () => {
    const js = "const a = {\n  b: 1,\n};";
    expect(p(js).text).toBe(js);
    const py = "{\n  'a': True,\n}";
    expect(p(py).text).toBe(py);
    const fenced = '```json\n{\n  "a": 1\n}\n```';
    expect(p(fenced).text).toBe(fenced);
  });

  it("filler-phrases: greetings, thanks and request frames", () => {
    const out = p(
      "Hi Claude,\n\nHope you're doing well! Could you please review `src/app.ts`? I was wondering if you could also check the tests.\n\nThanks in advance!",
    );
    expect(out.text).toBe("Please review `src/app.ts`? Please also check the tests.");
    expect(out.transformations).toContain("filler-phrases");
  });

  it("filler-phrases: conservative — meaning-bearing words and quoted text stay", () => {
    for (const text of [
      "Just one test fails; does it really need a lock? Basically a cache.",
      'Why does my bot reply "Thanks in advance!"',
      "Hello, world! is printed twice",
      "Thanks!",
      "The thanks page at /thanks returns 404. Could you check why",
      "print('Could you please')",
    ]) {
      expect(p(text).text).toBe(text);
    }
  });

  it("chatty-preamble and chatty-closer in responses", () => {
    const out = r(
      "Sure! Here's the fix:\n\n```js\nx = 1;\n```\n\nI hope this helps! Let me know if you have any questions.",
    );
    expect(out.text).toBe("Here's the fix:\n\n```js\nx = 1;\n```");
    expect(out.transformations).toEqual(["chatty-preamble", "chatty-closer", "trim-ends"]);
    expect(r("Sure, here is the plan.").text).toBe("Here is the plan.");
  });

  it("chatty-closer never removes a sentence holding protected text, or the whole response", () => {
    const keep = "Done.\n\nLet me know if you'd like me to update `config.ts` as well.";
    expect(r(keep).text).toBe(keep);
    const word = "Done.\n\nWould you like me to rename parseConfig in v2 too?";
    expect(r(word).text).toBe(word);
    expect(r("Done.\n\nWould you like me to add tests for the parser too?").text).toBe("Done.");
    expect(r("Happy to help!").text).toBe("Happy to help!");
  });

  it("prompt rules are not applied to responses and vice versa", () => {
    expect(r("Could you please run it? Thanks!").text).toBe("Could you please run it? Thanks!");
    expect(p("Sure! Done.").text).toBe("Sure! Done.");
  });
});

describe("safety", () => {
  it("leaves text holding the placeholder characters unchanged", () => {
    const text = "odd \uE000 char   here\n\n\n\nend";
    expect(optimizePrompt(text)).toMatchObject({ text, transformations: [] });
  });

  it("never turns a non-empty text into an empty one", () => {
    expect(optimizePrompt("  \n\n\t").text).toBe("  \n\n\t");
    expect(optimizeResponse("\n\n").text).toBe("\n\n");
  });

  it("protects an unclosed fence to the end of the text", () => {
    const text = "See:\n```\na    b\n\n\n\nc";
    expect(optimizePrompt(text).text).toBe(text);
  });

  it("protects fences indented in list items", () => {
    const text = "1. Step\n\n   ```sh\n   echo  hi   \n   ```";
    expect(optimizePrompt(text).text).toBe(text);
  });

  it("keeps a meaningful space inside tab-separated data", () => {
    const text = "sku\tname\nSKU-0042 \tMonitor arm\nSKU-0107\tTray\t\t7";
    expect(optimizePrompt(text).text).toBe(text);
  });
});
