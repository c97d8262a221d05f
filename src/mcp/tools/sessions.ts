import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalidInput } from "../../errors.js";
import { PROVIDERS } from "../../providers/index.js";
import { CLI_NAMES } from "../../providers/types.js";
import type { SessionRecord, SessionStore } from "../../store/sessions.js";
import type { ToolRegistry } from "../registry.js";
import { reply } from "./reply.js";
import { SESSION_ID } from "./request-common.js";

const cli = z.enum(CLI_NAMES);
const sessionIdField = z
  .string()
  .regex(
    SESSION_ID,
    "sessionId must be a session id: letters, digits, - and _, not starting with -",
  )
  .describe("Gateway session id, or the CLI's own session id");

// Fields: id, cli, nativeSessionId, cwd, model, description, createdAt, lastUsedAt, requestCount, usage, costUsd, host, active.
const sessionShape = z.looseObject({ id: z.string(), cli });
const activeShape = z.looseObject({});

/** The six session tools: thin views over the session store. */
export function registerSessionTools(tools: ToolRegistry, store: SessionStore): void {
  const view = (s: SessionRecord, active = store.activeIds()) => ({
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
    // The machine where the CLI keeps its files (a resume elsewhere needs them reachable).
    host: s.host,
    active: active[s.cli] === s.id,
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

  tools.add({
    name: "session_create",
    description:
      "Create a CLI session; the active one (default) serves requests without sessionId.",
    inputSchema: z.strictObject({
      cli,
      description: z.string().max(500).optional(),
      setAsActive: z.boolean().optional().describe("Default true"),
    }),
    outputSchema: z.object({ session: sessionShape }),
    handler: ({ cli: name, description, setAsActive }) => {
      // A CLI that can be told the id of a new session gets the gateway's: it is then also its own.
      const id = randomUUID();
      const session = store.create({
        cli: name,
        description,
        id,
        nativeId: PROVIDERS[name].sessions.newWithId ? id : undefined,
      });
      if (setAsActive !== false) store.setActive(name, session.id);
      return reply({ session: view(session) });
    },
  });

  tools.add({
    name: "session_list",
    description: "List sessions (most recently used first) and the active session per CLI.",
    inputSchema: z.strictObject({ cli: cli.optional() }),
    outputSchema: z.object({ sessions: z.array(sessionShape), activeSessions: activeShape }),
    annotations: { readOnlyHint: true },
    handler: ({ cli: name }) => {
      const active = store.activeIds();
      return reply({
        sessions: store.list(name).map((s) => view(s, active)),
        activeSessions: name ? { [name]: active[name] } : active,
      });
    },
  });

  tools.add({
    name: "session_set_active",
    description: "Set (or with null clear) the active session of a CLI.",
    inputSchema: z.strictObject({ cli, sessionId: sessionIdField.nullable() }),
    outputSchema: z.object({ activeSessions: activeShape }),
    handler: ({ cli: name, sessionId }) => {
      if (sessionId === null) store.setActive(name, null);
      else {
        const session = existing(sessionId);
        if (session.cli !== name)
          throw invalidInput(`Session ${sessionId} belongs to ${session.cli}, not ${name}`);
        store.setActive(name, session.id);
      }
      return reply({ activeSessions: store.activeIds() });
    },
  });

  tools.add({
    name: "session_get",
    description: "One session's details.",
    inputSchema: z.strictObject({ sessionId: sessionIdField }),
    outputSchema: z.object({ session: sessionShape }),
    annotations: { readOnlyHint: true },
    handler: ({ sessionId }) => reply({ session: view(existing(sessionId)) }),
  });

  tools.add({
    name: "session_delete",
    description: "Delete a session from the gateway (the CLI's own history files are left alone).",
    inputSchema: z.strictObject({ sessionId: sessionIdField }),
    outputSchema: z.object({ deleted: z.string() }),
    annotations: { destructiveHint: true },
    handler: ({ sessionId }) => {
      const session = existing(sessionId);
      store.delete(session.id);
      return reply({ deleted: session.id });
    },
  });

  tools.add({
    name: "session_clear_all",
    description: "Delete all sessions, or all of one CLI.",
    inputSchema: z.strictObject({ cli: cli.optional() }),
    outputSchema: z.object({ deletedCount: z.number() }),
    annotations: { destructiveHint: true },
    handler: ({ cli: name }) => reply({ deletedCount: store.clearAll(name) }),
  });
}
