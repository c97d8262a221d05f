import type { ToolRegistry } from "../tool-list.js";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidInput } from "../../errors.js";
import { CLI_NAMES, type CliName } from "../../providers/types.js";
import type { SessionRecord, SessionStore } from "../../store/sessions.js";
import { toolError } from "./errors.js";
import { SESSION_ID } from "./request-common.js";

const cli = z.enum(CLI_NAMES);
const sessionIdField = z
  .string()
  .regex(
    SESSION_ID,
    "sessionId must be a session id: letters, digits, - and _, not starting with -",
  )
  .describe("Gateway session id, or the CLI's own session id");

// Fields: id, cli, nativeSessionId, cwd, model, description, createdAt, lastUsedAt, requestCount, usage, costUsd, active.
const sessionShape = z.looseObject({ id: z.string(), cli });
const activeShape = z.record(z.string(), z.string().nullable());

/** The six session tools: thin views over the session store. */
export function registerSessionTools(tools: ToolRegistry, store: SessionStore): void {
  const view = (s: SessionRecord) => ({
    id: s.id,
    cli: s.cli,
    nativeSessionId: s.started ? s.nativeId : null,
    cwd: s.cwd,
    model: s.model,
    description: s.description,
    createdAt: s.createdAt,
    lastUsedAt: s.lastUsedAt,
    requestCount: s.requestCount,
    usage: s.usage,
    costUsd: s.costUsd,
    active: store.activeIds()[s.cli] === s.id,
  });
  const reply = <T extends Record<string, unknown>>(structured: T) => ({
    content: [{ type: "text" as const, text: JSON.stringify(structured) }],
    structuredContent: structured,
  });
  const existing = (id: string): SessionRecord => {
    const session = store.get(id) ?? CLI_NAMES.map((c) => store.find(c, id)).find(Boolean);
    if (session) return session;
    throw invalidInput(
      store.wasDeleted(id)
        ? `Session ${id} was deleted`
        : `Unknown session ${id} (see session_list)`,
    );
  };
  const guarded =
    <A>(fn: (args: A) => Record<string, unknown>) =>
    async (args: A) => {
      try {
        return reply(fn(args));
      } catch (err) {
        return toolError(err);
      }
    };

  tools.add(
    "session_create",
    {
      description:
        "Create a session for a CLI. Requests to that CLI without sessionId use the active session.",
      inputSchema: z.strictObject({
        cli,
        description: z.string().max(500).optional(),
        setAsActive: z.boolean().optional().describe("Default true"),
      }),
      outputSchema: z.object({ session: sessionShape }),
    },
    guarded(
      ({
        cli: name,
        description,
        setAsActive,
      }: {
        cli: CliName;
        description?: string;
        setAsActive?: boolean;
      }) => {
        // claude and gemini can be told the id of a new session, so the gateway id is also theirs.
        const reserve = name !== "codex";
        const id = randomUUID();
        const session = store.create({
          cli: name,
          description,
          id,
          nativeId: reserve ? id : undefined,
        });
        if (setAsActive !== false) store.setActive(name, session.id);
        return { session: view(session) };
      },
    ),
  );

  tools.add(
    "session_list",
    {
      description: "List sessions (most recently used first) and the active session per CLI.",
      inputSchema: z.strictObject({ cli: cli.optional() }),
      outputSchema: z.object({ sessions: z.array(sessionShape), activeSessions: activeShape }),
      annotations: { readOnlyHint: true },
    },
    guarded(({ cli: name }: { cli?: CliName }) => ({
      sessions: store.list(name).map(view),
      activeSessions: store.activeIds(),
    })),
  );

  tools.add(
    "session_set_active",
    {
      description: "Set (or with null clear) the active session of a CLI.",
      inputSchema: z.strictObject({ cli, sessionId: sessionIdField.nullable() }),
      outputSchema: z.object({ activeSessions: activeShape }),
    },
    guarded(({ cli: name, sessionId }: { cli: CliName; sessionId: string | null }) => {
      if (sessionId === null) store.setActive(name, null);
      else {
        const session = existing(sessionId);
        if (session.cli !== name)
          throw invalidInput(`Session ${sessionId} belongs to ${session.cli}, not ${name}`);
        store.setActive(name, session.id);
      }
      return { activeSessions: store.activeIds() };
    }),
  );

  tools.add(
    "session_get",
    {
      description: "One session's details.",
      inputSchema: z.strictObject({ sessionId: sessionIdField }),
      outputSchema: z.object({ session: sessionShape }),
      annotations: { readOnlyHint: true },
    },
    guarded(({ sessionId }: { sessionId: string }) => ({ session: view(existing(sessionId)) })),
  );

  tools.add(
    "session_delete",
    {
      description:
        "Delete a session from the gateway (the CLI's own history files are left alone).",
      inputSchema: z.strictObject({ sessionId: sessionIdField }),
      outputSchema: z.object({ deleted: z.string() }),
      annotations: { destructiveHint: true },
    },
    guarded(({ sessionId }: { sessionId: string }) => {
      const session = existing(sessionId);
      store.delete(session.id);
      return { deleted: session.id };
    }),
  );

  tools.add(
    "session_clear_all",
    {
      description: "Delete all sessions, or all of one CLI.",
      inputSchema: z.strictObject({ cli: cli.optional() }),
      outputSchema: z.object({ deletedCount: z.number() }),
      annotations: { destructiveHint: true },
    },
    guarded(({ cli: name }: { cli?: CliName }) => ({ deletedCount: store.clearAll(name) })),
  );
}
