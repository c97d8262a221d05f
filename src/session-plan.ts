import { homedir } from "node:os";
import { invalidInput } from "./errors.js";
import { machineName } from "./host.js";
import { anySessionFileExists } from "./session-files.js";
import type { CliRequest, GatewayResult, PreparedRequest } from "./request.js";
import { requestToolOf } from "./providers/index.js";
import { CLI_NAMES, type CliName, type Provider, type SessionPlan } from "./providers/types.js";
import type { SessionRecord, SessionStore } from "./store/sessions.js";

// The session step of the pipeline, both ends: which session a request continues (before the run)
// and what the run changes in it (after). Nothing else reads or writes sessions for a request.

/** Which session a request continues, how the CLI is told, and where and with which model it runs. */
export interface SessionTarget {
  session?: SessionRecord;
  plan: SessionPlan;
  cwd: string;
  model?: string;
}

/**
 * The session rules, per request:
 * - `sessionId`: that session (gateway id or the CLI's own id), resumed natively;
 * - `createNewSession`: a fresh session;
 * - otherwise the CLI's active session (session_create / session_set_active), if any;
 * - the provider's latest-session option (claude `continueSession`, gemini `resumeLatest`) with no
 *   active session: the CLI's most recent session in the working directory;
 * - otherwise a fresh session.
 * The provider's session rules say whether a resume runs in the directory the session started in
 * and whether it keeps the session's model.
 */
export function resolveSession({
  store,
  provider,
  request: req,
  requestedModel,
}: {
  store: SessionStore;
  provider: Provider;
  request: CliRequest<unknown>;
  requestedModel: string | undefined;
}): SessionTarget {
  const cli = provider.name;
  const latest = provider.sessions.latestOption;
  if (req.resumeLatest && !latest)
    throw invalidInput(`${cli} cannot resume its latest session: pass a sessionId`);
  if (req.sessionId && req.createNewSession)
    throw invalidInput("sessionId and createNewSession cannot be combined");
  if (req.sessionId && req.resumeLatest)
    throw invalidInput(`sessionId and ${latest} cannot be combined`);
  if (req.createNewSession && req.resumeLatest)
    throw invalidInput(`createNewSession and ${latest} cannot be combined`);

  const cwd = req.cwd ?? process.cwd();
  if (req.createNewSession) return { plan: { mode: "new" }, cwd, model: requestedModel };

  const session = req.sessionId ? findSession(store, cli, req.sessionId) : store.active(cli);
  if (!session) {
    const plan: SessionPlan = req.resumeLatest ? { mode: "latest" } : { mode: "new" };
    return { plan, cwd, model: requestedModel };
  }
  const plan = planFor(provider, session);
  if (plan.mode === "resume") checkReachable(provider, session);
  return {
    session,
    plan,
    cwd: sessionCwd(provider, session, req.cwd),
    model: sessionModel(provider, session, requestedModel),
  };
}

function findSession(store: SessionStore, cli: CliName, id: string): SessionRecord {
  const session = store.find(cli, id);
  if (session?.cli === cli) return session;
  if (session)
    throw invalidInput(
      `Session ${id} belongs to ${session.cli}; use ${requestToolOf(session.cli)} to continue it`,
    );
  if (store.wasDeleted(id)) throw invalidInput(`Session ${id} was deleted`);
  for (const other of CLI_NAMES) {
    const owner = other !== cli ? store.find(other, id) : undefined;
    if (owner)
      throw invalidInput(
        `Session ${id} belongs to ${other}; use ${requestToolOf(other)} to continue it`,
      );
  }
  throw invalidInput(
    `Unknown sessionId ${id} for ${cli}: use a sessionId returned by ${requestToolOf(cli)} or session_create (see session_list)`,
  );
}

function planFor(provider: Provider, session: SessionRecord): SessionPlan {
  if (session.started && session.nativeId) return { mode: "resume", id: session.nativeId };
  // session_create reserved the id; the CLI creates its session under it on the first request.
  if (session.nativeId && provider.sessions.newWithId)
    return { mode: "new-with-id", id: session.nativeId };
  return { mode: "new" };
}

/**
 * A session made on another machine (several gateway hosts on one database) resumes here only when
 * its CLI's session files are reachable here (a shared home); a CLI whose files the provider does
 * not name is let try.
 */
function checkReachable(provider: Provider, session: SessionRecord): void {
  const here = machineName();
  if (!session.host || session.host === here || !provider.sessions.sessionFiles) return;
  const env = process.env;
  const paths = provider.sessions.sessionFiles(
    session.nativeId!,
    session.cwd,
    env,
    env.HOME || homedir(),
  );
  if (anySessionFileExists(paths)) return;
  throw invalidInput(
    `Session ${session.id} lives on host ${session.host}: ${provider.name} keeps its files there (${paths.join(", ")}), and they are not reachable on this host (${here}). Continue it through a gateway on ${session.host}, or share that directory between the hosts`,
  );
}

/** A CLI that finds sessions by directory resumes one only from the directory it started in. */
function sessionCwd(
  provider: Provider,
  session: SessionRecord,
  requested: string | undefined,
): string {
  if (!session.cwd) return requested ?? process.cwd();
  if (requested && requested !== session.cwd && provider.sessions.byDirectory) {
    throw invalidInput(
      `Session ${session.id} started in ${session.cwd}; ${provider.name} finds sessions by directory, so it resumes there (omit cwd or pass that directory)`,
    );
  }
  return requested ?? session.cwd;
}

/** A resume with another model would make such a CLI compact the conversation into a summary: refuse it. */
function sessionModel(
  provider: Provider,
  session: SessionRecord,
  requested: string | undefined,
): string | undefined {
  const cli = provider.name;
  if (!provider.sessions.keepsModel || !session.started)
    return requested ?? session.model ?? undefined;
  if (requested && requested !== session.model) {
    const current = session.model ? `model ${session.model}` : `${cli}'s default model`;
    throw invalidInput(
      `${cli} session ${session.id} uses ${current}; resuming it with ${requested} would make ${cli} replace the conversation with a summary. Omit model, or start a new session (createNewSession) for ${requested}`,
    );
  }
  return session.model ?? undefined;
}

/**
 * Counts a finished run against its gateway session (found or made from the CLI's own id when the
 * request named none) and reports both ids in the result.
 */
export function recordSessionRun(
  store: SessionStore,
  prepared: PreparedRequest,
  result: GatewayResult,
): GatewayResult {
  const session = store.recordRun(prepared.cli, prepared.gatewaySessionId, {
    nativeSessionId: result.nativeSessionId,
    cwd: prepared.cwd,
    model: prepared.model,
    usage: result.usage,
    costUsd: result.costUsd,
  });
  if (session) {
    // Where the CLI made the session's files: its first run's machine.
    if (session.started && !session.host) store.recordHost(session.id, machineName());
    result.nativeSessionId = session.nativeId ?? result.nativeSessionId;
    result.gatewaySessionId = session.id;
  }
  return result;
}
