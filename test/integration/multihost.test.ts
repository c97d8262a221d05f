import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installFakeClis } from "../fakes/install-fakes.mjs";
import {
  alive,
  delay,
  sc,
  startGateway,
  survivors,
  textOf,
  waitForJob,
  type StartedGateway,
} from "../helpers/gateway.js";
import { BACKENDS, freshPgDatabase, pgRows } from "../helpers/postgres.js";

// Two gateway hosts on one PostgreSQL database (issue #20): different host ids, machine names and
// homes (so the fake CLIs' files are not shared), a short lease so a dead host is found quickly.
const LEASE_MS = 1500;

describe.runIf(BACKENDS.includes("postgres"))(
  "two gateway hosts on one PostgreSQL database",
  () => {
    let url: string;
    let bin: string;
    let scratch: string;
    let log: string;
    const homes: string[] = [];
    const started: StartedGateway[] = [];
    let a: StartedGateway;
    let b: StartedGateway;

    const startHost = async (id: string, extra: Record<string, string> = {}) => {
      const home = mkdtempSync(join(tmpdir(), `llm-gateway-${id}-`));
      homes.push(home);
      const gw = await startGateway(
        {
          PATH: `${bin}:${process.env.PATH}`,
          FAKE_CLI_LOG: log,
          LLM_GATEWAY_DATABASE_URL: url,
          LLM_GATEWAY_HOST_ID: id,
          LLM_GATEWAY_HOSTNAME: `machine-${id}`,
          LLM_GATEWAY_LEASE_MS: String(LEASE_MS),
          LLM_GATEWAY_KILL_GRACE_MS: "500",
          // The 500 operations queue up to 100 jobs on a host.
          LLM_GATEWAY_MAX_QUEUE: "200",
          ...extra,
        },
        { home },
      );
      started.push(gw);
      return gw;
    };
    /** Pids of the fake CLIs whose stdin (the prompt) contains `marker`. */
    const cliPids = (marker: string): number[] =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .slice(0, -1)
            .map(
              (l) => JSON.parse(l) as { cli?: string; stdin?: string; pid: number; argv: string[] },
            )
            .filter((e) => e.cli && e.stdin?.includes(marker))
            .map((e) => e.pid)
        : [];
    const invocationsWith = (marker: string) =>
      readFileSync(log, "utf8")
        .split("\n")
        .slice(0, -1)
        .map((l) => JSON.parse(l) as { cli?: string; stdin?: string; argv: string[] })
        .filter((e) => e.cli && e.stdin?.includes(marker));
    /** Polls `read` every 100 ms until `done` holds of its result or `ms` have passed. */
    const pollUntil = async <T>(read: () => Promise<T>, done: (v: T) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await read();
        if (done(value) || Date.now() > deadline) return value;
        await delay(100);
      }
    };
    /** The flight recorder's row(s) of one job, from the shared `recorder` schema. */
    const recordedCalls = (db: string, jobId: string) =>
      pgRows<{ status: string; instance_id: string; error_message: string | null }>(
        db,
        `SELECT status, instance_id, error_message FROM recorder.calls WHERE job_id = $1`,
        [jobId],
      );
    const cliPidOf = async (marker: string) => {
      for (let i = 0; i < 200 && !cliPids(marker).length; i++) await delay(25);
      return cliPids(marker)[0]!;
    };

    beforeAll(async () => {
      url = await freshPgDatabase();
      bin = installFakeClis();
      scratch = mkdtempSync(join(tmpdir(), "llm-gateway-multihost-"));
      log = join(scratch, "invocations.jsonl");
      a = await startHost("host-a");
      b = await startHost("host-b");
    });
    afterAll(async () => {
      await Promise.all(started.map((g) => g.close().catch(() => undefined)));
      for (const path of [bin, scratch, ...homes]) rmSync(path, { recursive: true, force: true });
    });

    it("2 × 500 mixed session and job operations, both hosts at once, lose nothing", async () => {
      const created = new Map<string, string>(); // session id -> description
      const kept: string[] = []; // read by session_get, never deleted
      const doomed: string[] = []; // deleted by the other host
      const deleted = new Set<string>();
      const jobs = new Map<string, string>(); // job id -> prompt
      const failures: string[] = [];
      const call = async (gw: StartedGateway, name: string, args: Record<string, unknown>) => {
        const r = await gw.call(name, args);
        if (r.isError) failures.push(`${name}: ${textOf(r)}`);
        return sc(r) ?? {};
      };
      const others = (gw: StartedGateway) => (gw === a ? b : a);
      // One step of ten kinds; the reads and deletes aim at what the other host wrote.
      const step = async (gw: StartedGateway, host: string, i: number) => {
        const pick = <T>(items: T[]) => items[(i * 7919) % items.length];
        switch (i % 10) {
          case 0:
          case 1: {
            const description = `${host} session ${i}`;
            const { session } = await call(gw, "session_create", { cli: "codex", description });
            if (session) created.set(session.id, description);
            if (session) (i % 10 === 0 ? doomed : kept).push(session.id);
            return;
          }
          case 2: {
            const id = pick(kept);
            if (id) {
              const s = await call(others(gw), "session_get", { sessionId: id });
              if (s.session?.description !== created.get(id)) failures.push(`session_get ${id}`);
            }
            return;
          }
          case 3:
            await call(gw, "session_list", {});
            return;
          case 4: {
            const id = doomed.shift();
            if (id) {
              deleted.add(id);
              await call(others(gw), "session_delete", { sessionId: id });
            }
            return;
          }
          case 5:
          case 6: {
            const prompt = `job ${host} ${i}`;
            const { jobId } = await call(gw, "codex_request_async", { prompt });
            if (jobId) jobs.set(jobId, prompt);
            return;
          }
          case 7:
          case 8: {
            const id = pick([...jobs.keys()]);
            if (id) await call(others(gw), "llm_job_status", { jobId: id });
            return;
          }
          default: {
            const id = pick([...jobs.keys()]);
            if (id) await call(others(gw), "llm_job_result", { jobId: id, maxChars: 100 });
          }
        }
      };
      const run = async (gw: StartedGateway, host: string) => {
        // Eight calls in flight per host.
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < 500) await step(gw, host, next++);
          }),
        );
      };
      await Promise.all([run(a, "A"), run(b, "B")]);
      expect(failures).toEqual([]);
      expect(b.stderr()).not.toMatch(/\[ERROR\]/);

      const remaining = [...created.keys()].filter((id) => !deleted.has(id)).sort();
      for (const gw of [a, b]) {
        const listed = (sc(await gw.call("session_list", { cli: "codex" })).sessions as any[])
          .map((s) => s.id as string)
          .sort();
        expect(listed).toEqual(remaining);
      }
      expect(created.size).toBe(200);
      expect(jobs.size).toBe(200);
      for (const [id, prompt] of jobs) {
        const status = await waitForJob(b, id, { ms: 30_000, everyMs: 100 });
        expect(status.status, `${id}: ${JSON.stringify(status)}`).toBe("completed");
        const result = sc(await a.call("llm_job_result", { jobId: id }));
        expect(result.result.text).toBe(`FAKE-REPLY: ${prompt}`);
      }

      // The recorder has every call exactly once: each job's correlation id in recorder.calls
      // once, none missing, none extra (no other operation here runs a CLI), each ended
      // completed with its own prompt, and each host's calls under that host's instance.
      const stored = await pgRows<{ id: string; correlation_id: string; owner: string }>(
        url,
        `SELECT id, correlation_id, owner FROM gateway.jobs WHERE id = ANY($1)`,
        [[...jobs.keys()]],
      );
      expect(stored).toHaveLength(200);
      type CallRow = {
        correlation_id: string;
        job_id: string;
        status: string;
        prompt: string;
        instance_id: string;
      };
      const calls = await pollUntil(
        () =>
          pgRows<CallRow>(
            url,
            `SELECT correlation_id, job_id, status, prompt, instance_id FROM recorder.calls`,
          ),
        (rows) => rows.every((r) => r.status !== "started"),
        5000,
      );
      expect(calls).toHaveLength(200);
      const byCorrelation = new Map<string, CallRow[]>();
      for (const c of calls)
        byCorrelation.set(c.correlation_id, [...(byCorrelation.get(c.correlation_id) ?? []), c]);
      const instanceOf = new Map<string, Set<string>>(); // host -> recorder instances
      for (const job of stored) {
        const rows = byCorrelation.get(job.correlation_id) ?? [];
        expect(rows, `job ${job.id}`).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          job_id: job.id,
          status: "completed",
          prompt: jobs.get(job.id),
        });
        instanceOf.set(
          job.owner,
          (instanceOf.get(job.owner) ?? new Set()).add(rows[0]!.instance_id),
        );
      }
      expect([...instanceOf.keys()].sort()).toEqual(["host-a", "host-b"]);
      const [ofA, ofB] = [[...instanceOf.get("host-a")!], [...instanceOf.get("host-b")!]];
      expect(ofA).toHaveLength(1);
      expect(ofB).toHaveLength(1);
      expect(ofA[0]).not.toBe(ofB[0]);
    }, 90_000);

    it("a job started on A is listed, read, paged and cancelled from B; it stops within 3 s", async () => {
      // About 20 s of progress events, padded: output to page long before it would end.
      const marker = "[[fake:stream=2000]] [[fake:every=10]] [[fake:pad=100]] long job";
      const stream = a.client.experimental.tasks.callToolStream(
        // A new session: the active codex one may be B's, which A would refuse to resume.
        { name: "codex_request", arguments: { prompt: marker, createNewSession: true } },
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      );
      const first = (await stream.next()).value as any;
      expect(first.type).toBe("taskCreated");
      const id = first.task.taskId as string;
      const pid = await cliPidOf("long job");

      const listed = await b.client.experimental.tasks.listTasks();
      expect(listed.tasks.map((t) => t.taskId)).toContain(id);
      expect((await waitForJob(b, id, { until: (s) => s === "running" })).status).toBe("running");
      // Paged: two pages of stdout read from B, the second where the first ended.
      for (let i = 0; i < 100; i++) {
        if (sc(await b.call("llm_job_status", { jobId: id })).stdoutChars >= 2000) break;
        await delay(50);
      }
      const page1 = sc(await b.call("llm_job_result", { jobId: id, raw: true, maxChars: 1000 }));
      expect(page1.status).toBe("running");
      expect(page1.stdout.text).toHaveLength(1000);
      const page2 = sc(
        await b.call("llm_job_result", {
          jobId: id,
          raw: true,
          maxChars: 1000,
          stdoutOffset: page1.stdout.nextOffset,
        }),
      );
      expect(page2.stdout.offset).toBe(1000);
      expect(page2.stdout.text).toHaveLength(1000);

      const asked = Date.now();
      const reply = sc(await b.call("llm_job_cancel", { jobId: id }));
      expect(reply.status).toBe("running");
      expect(reply.cancel).toMatch(
        /^cancel requested; the job runs on host host-a, which stops it/,
      );
      const ended = await waitForJob(b, id, { ms: 3000, everyMs: 50 });
      expect(ended.status).toBe("canceled");
      expect(Date.now() - asked).toBeLessThan(3000);
      expect(await survivors([pid], 1000)).toEqual([]);
      // What was read before the cancel is kept.
      const after = sc(await b.call("llm_job_result", { jobId: id, raw: true, maxChars: 1000 }));
      expect(after.stdout.text).toBe(page1.stdout.text);
      await stream.return(undefined);
    });

    it("tasks/cancel on B stops a task running on A", async () => {
      const stream = a.client.experimental.tasks.callToolStream(
        {
          name: "claude_request",
          arguments: { prompt: "[[fake:hang]] task to cancel", createNewSession: true },
        },
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      );
      const first = (await stream.next()).value as any;
      const pid = await cliPidOf("task to cancel");
      const asked = Date.now();
      await b.client.experimental.tasks.cancelTask(first.task.taskId);
      expect((await waitForJob(a, first.task.taskId, { ms: 3000 })).status).toBe("canceled");
      expect(Date.now() - asked).toBeLessThan(3000);
      expect(await survivors([pid], 1000)).toEqual([]);
      await stream.return(undefined);
    });

    it("a session created on A resumes on B only where its CLI's files are reachable", async () => {
      const { session } = sc(
        await a.call("session_create", { cli: "claude", description: "on A" }),
      );
      const first = await a.call("claude_request", { prompt: "turn 1", sessionId: session.id });
      expect(first.isError).toBeFalsy();
      expect(sc(await b.call("session_get", { sessionId: session.id })).session.host).toBe(
        "machine-host-a",
      );

      // B's home has no ~/.claude/projects/*/<id>.jsonl: the session lives on A.
      const refused = await b.call("claude_request", { prompt: "turn 2", sessionId: session.id });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain(`Session ${session.id} lives on host machine-host-a`);
      expect(textOf(refused)).toContain("not reachable on this host (machine-host-b)");

      // The file where claude keeps it, as a home shared between the hosts would show it on B.
      const project = join(b.home, ".claude", "projects", "-shared-project");
      mkdirSync(project, { recursive: true });
      writeFileSync(join(project, `${session.id}.jsonl`), "{}\n");
      const resumed = await b.call("claude_request", { prompt: "turn 3", sessionId: session.id });
      expect(resumed.isError).toBeFalsy();
      expect(textOf(resumed)).toBe("FAKE-REPLY: turn 3");
      const argv = invocationsWith("turn 3")[0]!.argv;
      expect(argv[argv.indexOf("--resume") + 1]).toBe(session.id);
    });

    it("a second gateway under a host id a live one holds is refused, naming the id", async () => {
      const twin = await startHost("host-b");
      // The gateway loads on the first call and answers every call with why it could not start.
      const why = await twin.call("session_list", {}).then(
        (r) => (r.isError ? textOf(r) : "answered"),
        (err: Error) => err.message,
      );
      expect(why).toContain("LLM_GATEWAY_HOST_ID host-b is taken: a live gateway holds its lease");
      await twin.close();
      // The holder is untouched.
      expect((await b.call("session_list", {})).isError).toBeFalsy();
    });

    it("SIGKILL of A: its jobs end interrupted after the lease, by B; B's own job is untouched", async () => {
      const { jobId: onA } = sc(
        await a.call("codex_request_async", {
          prompt: "[[fake:hang]] a's job before the kill",
          createNewSession: true,
        }),
      );
      const { jobId: onB } = sc(
        await b.call("codex_request_async", {
          // The active codex session may be one A made: B would refuse to resume it (it lives on A).
          prompt: "[[fake:hang]] b's job during the kill",
          createNewSession: true,
        }),
      );
      const cliOfA = await cliPidOf("a's job before the kill");
      const cliOfB = await cliPidOf("b's job during the kill");
      expect((await waitForJob(b, onA, { until: (s) => s === "running" })).status).toBe("running");
      const [startedOnA] = await recordedCalls(url, onA);
      expect(startedOnA!.status).toBe("started");
      const killed = Date.now();
      process.kill(a.pid, "SIGKILL");
      // Not marked before A's lease could have run out.
      expect((await recordedCalls(url, onA))[0]!.status).toBe("started");
      const status = await waitForJob(b, onA, { ms: LEASE_MS * 4 + 2000, everyMs: 100 });
      expect(status.status).toBe("interrupted");
      expect(status.error.category).toBe("interrupted");
      // Not before the lease could have run out (A's last beat came at most a beat before the kill).
      expect(Date.now() - killed).toBeGreaterThanOrEqual(LEASE_MS - LEASE_MS / 4 - 100);
      expect(b.stderr()).toContain(`job ${onA} (codex) was interrupted`);
      expect(await survivors([cliOfA], 3000)).toEqual([]);
      // A's call in the flight recorder ends interrupted too (B's recorder sweeps lapsed leases).
      const recordedA = await pollUntil(
        () => recordedCalls(url, onA),
        (rows) => rows[0]?.status !== "started",
        LEASE_MS * 2 + 2000,
      );
      expect(recordedA).toEqual([
        {
          status: "interrupted",
          instance_id: startedOnA!.instance_id,
          error_message: expect.stringContaining("ended before the call finished"),
        },
      ]);
      const mine = sc(await b.call("llm_job_status", { jobId: onB }));
      expect(mine.status).toBe("running");
      expect((await recordedCalls(url, onB)).map((r) => r.status)).toEqual(["started"]);
      expect(alive(cliOfB)).toBe(true);
      expect(sc(await b.call("llm_job_cancel", { jobId: onB })).status).toBe("running");
      expect((await waitForJob(b, onB, { ms: 3000 })).status).toBe("canceled");
    });

    it("a gateway that only connects reaps a dead host's jobs within the lease", async () => {
      // A database of their own: no host that gets calls is there to reap.
      const db = await freshPgDatabase();
      const idle = await startHost("host-idle", { LLM_GATEWAY_DATABASE_URL: db });
      const doomed = await startHost("host-doomed", { LLM_GATEWAY_DATABASE_URL: db });
      const { jobId } = sc(
        await doomed.call("codex_request_async", { prompt: "[[fake:hang]] the doomed host's job" }),
      );
      const cli = await cliPidOf("the doomed host's job");
      expect((await waitForJob(doomed, jobId, { until: (s) => s === "running" })).status).toBe(
        "running",
      );
      const killed = Date.now();
      process.kill(doomed.pid, "SIGKILL");
      const jobStatus = () =>
        pgRows<{ status: string }>(db, `SELECT status FROM gateway.jobs WHERE id = $1`, [jobId]);
      const ended = await pollUntil(
        jobStatus,
        (rows) => rows[0]?.status !== "running",
        LEASE_MS * 4 + 2000,
      );
      expect(ended).toEqual([{ status: "interrupted" }]);
      expect(Date.now() - killed).toBeGreaterThanOrEqual(LEASE_MS - LEASE_MS / 4 - 100);
      expect(Date.now() - killed).toBeLessThan(LEASE_MS * 4 + 2000);
      expect(idle.stderr()).toContain(`job ${jobId} (codex) was interrupted`);
      expect(await survivors([cli], 3000)).toEqual([]);
      const recorded = await pollUntil(
        () => recordedCalls(db, jobId),
        (rows) => rows[0]?.status !== "started",
        LEASE_MS * 2 + 2000,
      );
      expect(recorded.map((r) => r.status)).toEqual(["interrupted"]);
    });
  },
);
