// vitest global setup: a PostgreSQL cluster for the tests that run on both backends. .ci/run
// starts one and sets LLM_GATEWAY_TEST_DATABASE_URL; without it, one is started here if initdb is
// on PATH, and stopped after the run.
// @ts-expect-error a plain .mjs helper, also run by .ci/run
import { canRunPostgres, startCluster, stopCluster } from "./pg-cluster.mjs";

export default async function setup(): Promise<(() => void) | undefined> {
  if (process.env.LLM_GATEWAY_TEST_DATABASE_URL || !canRunPostgres()) return undefined;
  const { dir, url } = (await startCluster()) as { dir: string; url: string };
  process.env.LLM_GATEWAY_TEST_DATABASE_URL = url;
  return () => stopCluster(dir);
}
