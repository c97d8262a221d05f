import { beforeEach, describe, expect, it } from "vitest";
import { adjustments, permissionsOf, withGrant } from "../../src/approval/options.js";
import { decide } from "../../src/approval/policy.js";
import { claudeProvider } from "../../src/providers/claude.js";
import type { Provider } from "../../src/providers/types.js";
import { resolveSession } from "../../src/session-plan.js";
import { SessionStore } from "../../src/store/sessions.js";
import { BACKENDS } from "../helpers/postgres.js";
import { openTestStore } from "../helpers/store-db.js";

/** A made-up CLI's permission options: nothing of claude's, codex's or gemini's. */
interface FakeOptions {
  sandbox?: "read" | "write" | "off";
  allow?: string[];
}

// Named "claude" on purpose: the rules below must come from what the provider declares, not its name.
const fake: Provider<FakeOptions> = {
  ...(claudeProvider as Provider),
  name: "claude",
  sessions: { newWithId: false, byDirectory: false, keepsModel: true },
  permissions: {
    requested: (o) => ({ bypass: o.sandbox === "off", workspaceWrite: o.sandbox === "write" }),
    allowedTools: (o) => o.allow,
    shellOrWrite: /^shell\b/,
    withGrant: (o, grant) => ({
      ...o,
      sandbox: grant.bypass ? "off" : grant.workspaceWrite ? "write" : undefined,
      allow: grant.allowedTools,
    }),
    fields: {
      sandbox: {
        omitted: "read",
        permission: (asked) => (asked.sandbox === "off" ? "bypass" : "workspaceWrite"),
      },
      allow: { omitted: [], permission: () => "shellTools" },
    },
  },
  reviewer: { options: () => ({ sandbox: "read" }), fencedJson: true },
};

describe("the approval step maps a provider's own options by its declared capabilities", () => {
  const run = (o: FakeOptions, policy: "strict" | "balanced") => {
    const requested = permissionsOf(fake, o, []);
    const verdict = decide(requested, policy);
    const applied = withGrant(fake, o, verdict.granted, requested);
    return { requested, applied, adjusted: adjustments(fake, o, applied, verdict) };
  };

  it("balanced: its bypass option narrows to its workspace-write value", () => {
    const r = run({ sandbox: "off", allow: ["read", "shell(ls)"] }, "balanced");
    expect(r.requested).toEqual({
      bypass: true,
      workspaceWrite: false,
      shellTools: ["shell(ls)"],
      mcpServers: [],
    });
    expect(r.applied).toEqual({ sandbox: "write", allow: ["read", "shell(ls)"] });
    expect(r.adjusted).toEqual([
      {
        field: "sandbox",
        asked: "off",
        applied: "write",
        reason: "balanced policy: bypass narrowed to workspace writes",
      },
    ]);
  });

  it("strict: its write mode goes read-only and its shell entries are removed", () => {
    const r = run({ sandbox: "write", allow: ["read", "shell(ls)"] }, "strict");
    expect(r.applied).toEqual({ sandbox: undefined, allow: ["read"] });
    expect(r.adjusted.map((a) => [a.field, a.asked, a.applied])).toEqual([
      ["sandbox", "write", "read"],
      ["allow", ["read", "shell(ls)"], ["read"]],
    ]);
  });
});

describe.each(BACKENDS)(
  "the session rules follow a provider's declared session capabilities (%s)",
  (backend) => {
    let store: SessionStore;
    beforeEach(async () => {
      store = new SessionStore(await openTestStore(backend));
    });

    const started = () =>
      store.create({
        cli: "claude",
        nativeId: "native-1",
        started: true,
        cwd: "/work/a",
        model: "model-1",
      });
    const ask = (extra: { sessionId?: string; cwd?: string; resumeLatest?: boolean }) => ({
      prompt: "x",
      options: {},
      ...extra,
    });

    it("directory rule: a provider that does not find sessions by directory resumes anywhere", () => {
      const { id } = started();
      const req = ask({ sessionId: id, cwd: "/work/b" });
      expect(
        resolveSession({ store, provider: fake, request: req, requestedModel: undefined }),
      ).toMatchObject({
        plan: { mode: "resume", id: "native-1" },
        cwd: "/work/b",
        model: "model-1",
      });
      expect(() =>
        resolveSession({
          store,
          provider: claudeProvider,
          request: req,
          requestedModel: undefined,
        }),
      ).toThrow(/finds sessions by directory/);
    });

    it("model rule: a provider whose sessions keep their model refuses another one", () => {
      const { id } = started();
      const req = ask({ sessionId: id });
      expect(() =>
        resolveSession({ store, provider: fake, request: req, requestedModel: "model-2" }),
      ).toThrow(
        /claude session .* uses model model-1; resuming it with model-2 would make claude replace the conversation with a summary/,
      );
      expect(
        resolveSession({ store, provider: claudeProvider, request: req, requestedModel: "model-2" })
          .model,
      ).toBe("model-2");
    });

    it("new-session ids and resume-latest only where the provider has them", () => {
      const reserved = store.create({ cli: "claude", id: "reserved-1", nativeId: "reserved-1" });
      const req = ask({ sessionId: reserved.id });
      expect(
        resolveSession({ store, provider: fake, request: req, requestedModel: undefined }).plan,
      ).toEqual({ mode: "new" });
      expect(
        resolveSession({ store, provider: claudeProvider, request: req, requestedModel: undefined })
          .plan,
      ).toEqual({
        mode: "new-with-id",
        id: "reserved-1",
      });
      expect(() =>
        resolveSession({
          store,
          provider: fake,
          request: ask({ resumeLatest: true }),
          requestedModel: undefined,
        }),
      ).toThrow(/claude cannot resume its latest session/);
      expect(
        resolveSession({
          store,
          provider: claudeProvider,
          request: ask({ resumeLatest: true }),
          requestedModel: undefined,
        }).plan,
      ).toEqual({ mode: "latest" });
    });
  },
);
