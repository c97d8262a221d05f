// `npm run lint` runs this over src/: imports point one way. Type-only imports count (a circle of
// types is still a circle), so tsPreCompilationDeps is on.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A module must not reach itself through its imports, types included.",
      from: {},
      to: { circular: true },
    },
    {
      name: "providers-stay-pure",
      severity: "error",
      comment:
        "providers/ turns a request into argv and CLI output into a result: it imports only " +
        "providers/, errors.ts and the bottom type modules, never storage, protocol or process code.",
      from: { path: "^src/providers/" },
      to: {
        path: "^src/",
        pathNot: ["^src/providers/", "^src/errors\\.ts$", "^src/request\\.ts$"],
      },
    },
    {
      name: "recorder-below-its-readers",
      severity: "error",
      comment:
        "recorder/ (logs.db: writer, schema, read model) is used by the app, jobs and `logs`; it " +
        "imports only storage, process liveness, the bottom type modules and itself.",
      from: { path: "^src/recorder/" },
      to: {
        path: "^src/",
        pathNot: [
          "^src/recorder/",
          "^src/store/",
          "^src/process/liveness\\.ts$",
          "^src/providers/types\\.ts$",
          "^src/number-settings\\.ts$",
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js"],
    },
  },
};
