// The preservation check of the optimizer (src/optimize), shared by test/unit/optimize.test.ts
// and bench/optimize.mjs. It finds what must survive byte-exact with simple regular expressions
// of its own, deliberately not the module's span splitter, so that a bug there shows up here.

/**
 * Everything in `text` that must appear byte-exact in any optimized version of it: fenced code
 * blocks (whole), inline code spans, double-quoted strings, URLs, paths, numbers, identifiers
 * (dotted, snake_case, camelCase, PascalCase) and command-line flags.
 * @param {string} text
 * @returns {string[]}
 */
export function mustSurvive(text) {
  const items = [];
  const lines = text.split("\n");
  const prose = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(`{3,}|~{3,})/.exec(lines[i]);
    if (!open) {
      prose.push(lines[i]);
      continue;
    }
    const fence = open[1];
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    let j = i + 1;
    while (j < lines.length && !close.test(lines[j])) j++;
    items.push(lines.slice(i, j + 1).join("\n")); // a fenced block, whole
    prose.push("");
    i = j;
  }
  // Terminal colour codes are not content: drop them before looking for words.
  // eslint-disable-next-line no-control-regex -- ESC is what colour codes start with
  let rest = prose.join("\n").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
  const take = (re, trim) => {
    for (const m of rest.matchAll(re)) {
      const item = trim ? m[0].replace(trim, "") : m[0];
      if (item) items.push(item);
    }
  };
  const takeAndCut = (re) => {
    take(re);
    rest = rest.replace(re, "\n");
  };
  takeAndCut(/`[^`\n]+`/g); // inline code
  takeAndCut(/"(?:[^"\\\n]|\\.)*"/g); // double-quoted strings
  take(/[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]+/gi, /[.,;:!?)\]]+$/); // URLs
  take(/(?:~|\.{1,2})?\/?[\w.@-]+(?:\/[\w.@-]+)+\/?/g); // paths with /
  take(/[A-Za-z]:\\[^\s"'`<>]+/g); // Windows paths
  take(/\d+(?:[.,:]\d+)*/g); // numbers, versions, times
  take(/\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+/g); // dotted names
  take(/\b\w*[A-Za-z]\w*_\w*|\b\w*_\w*[A-Za-z]\w*/g); // snake_case
  take(/\b[a-z]+[A-Z][A-Za-z0-9]*/g); // camelCase
  take(/\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*/g); // PascalCase
  take(/(?<![\w-])--?[A-Za-z][\w-]*/g); // flags
  return items;
}

/**
 * The items of `original` that `optimized` lost (empty when the check passes).
 * @param {string} original
 * @param {string} optimized
 * @returns {string[]}
 */
export function missingItems(original, optimized) {
  return [...new Set(mustSurvive(original))].filter((item) => !optimized.includes(item));
}
