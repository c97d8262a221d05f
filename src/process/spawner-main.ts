// The spawner process (see HelperSpawner in spawner.ts): starts the gateway's CLI processes and
// hands their pipes back over the IPC channel. The channel closes when the gateway goes, however
// it goes (a SIGKILL included): the helper then stops every CLI still running, and exits.
import { serveSpawns, type SpawnerReply } from "./spawner.js";

const killGraceMs = Number(process.argv[2]) || 1500;

const send = (reply: SpawnerReply, handle?: unknown) => {
  // After a disconnect, a send would raise an uncaught ERR_IPC_CHANNEL_CLOSED.
  if (process.connected) process.send!(reply, handle as undefined, { keepOpen: false });
};

// A signal to the gateway's whole process group (a terminal's SIGINT or SIGHUP) must not take the
// helper first: it stays until the gateway is gone, to stop what is left.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});

const spawns = serveSpawns(send);
process.on("message", spawns.onMessage);
process.on("disconnect", () => void spawns.stopAll(killGraceMs).then(() => process.exit(0)));
