import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/db.js";
import { SqliteDb } from "../../src/store/sql.js";
import { GATEWAY_MIGRATIONS } from "../../src/store/schema.js";
import { SessionStore, SESSIONS_ANY_CLI_MIGRATION } from "../../src/store/sessions.js";
import { BACKENDS } from "../helpers/postgres.js";
import { openTestStore } from "../helpers/store-db.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dbPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "llm-gateway-sessions-"));
  dirs.push(dir);
  return join(dir, "gateway.db");
};
const before = GATEWAY_MIGRATIONS.slice(0, GATEWAY_MIGRATIONS.indexOf(SESSIONS_ANY_CLI_MIGRATION));

// The SQLite migrations' own history (PostgreSQL starts at the rebuilt schema).
describe("sessions.cli holds any provider's name (gateway.db's rebuild)", () => {
  it("the first schema refused a fourth CLI; after the rebuild it is stored", () => {
    const old = openDatabase(dbPath(), before);
    const insert = `INSERT INTO sessions (id, cli, description, created_at, last_used_at) VALUES ('q', 'qwen', 'd', 't', 't')`;
    expect(() => old.prepare(insert).run()).toThrow(/CHECK constraint/);
    old.close();
    const db = openDatabase(dbPath(), GATEWAY_MIGRATIONS);
    db.prepare(insert).run();
    expect(db.prepare(`SELECT cli FROM sessions WHERE id = 'q'`).get()).toEqual({ cli: "qwen" });
    db.close();
  });

  it("keeps every session, the active ones and the cascade across the rebuild", () => {
    const path = dbPath();
    const old = new SessionStore(new SqliteDb(openDatabase(path, before)));
    const a = old.create({ cli: "claude", description: "first" });
    const b = old.create({ cli: "codex", description: "second", id: "b-id", nativeId: "native-b" });
    old.setActive("codex", b.id);

    const db = openDatabase(path, GATEWAY_MIGRATIONS);
    const store = new SessionStore(new SqliteDb(db));
    expect(store.get(a.id)).toMatchObject({ cli: "claude", description: "first" });
    expect(store.find("codex", "native-b")?.id).toBe("b-id");
    expect(store.active("codex")?.id).toBe("b-id");
    expect(() =>
      db
        .prepare(
          `INSERT INTO sessions (id, cli, native_id, description, created_at, last_used_at) VALUES ('x', 'codex', 'native-b', 'd', 't', 't')`,
        )
        .run(),
    ).toThrow(/UNIQUE/);
    store.delete(b.id);
    expect(store.active("codex")).toBeUndefined();
  });
});

describe.each(BACKENDS)("the sessions schema on %s", (backend) => {
  it("stores any provider's name; a native id once per CLI; deleting a session clears it as active", async () => {
    const db = await openTestStore(backend);
    const store = new SessionStore(db);
    const q = store.create({ cli: "qwen" as never, description: "fourth CLI" });
    expect(store.get(q.id)).toMatchObject({ cli: "qwen", description: "fourth CLI" });
    const b = store.create({ cli: "codex", description: "b", id: "b-id", nativeId: "native-b" });
    store.create({ cli: "claude", description: "same native id, other CLI", nativeId: "native-b" });
    expect(() =>
      db
        .prepare(
          `INSERT INTO sessions (id, cli, native_id, description, created_at, last_used_at) VALUES ('x', 'codex', 'native-b', 'd', 't', 't')`,
        )
        .run(),
    ).toThrow(/UNIQUE|unique/);
    store.setActive("codex", b.id);
    expect(store.active("codex")?.id).toBe("b-id");
    expect(store.find("codex", "native-b")?.id).toBe("b-id");
    expect(store.delete(b.id)).toBe(true);
    expect(store.active("codex")).toBeUndefined();
    expect(store.wasDeleted(b.id)).toBe(true);
    expect(
      store
        .list()
        .map((s) => s.id)
        .sort(),
    ).toEqual([q.id, store.list("claude")[0]!.id].sort());
  });
});
