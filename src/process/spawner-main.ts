// The spawner process (see HelperSpawner in spawner.ts): starts the gateway's CLI processes and
// hands their pipes back over the IPC channel. It ends when the gateway disconnects; the
// processes it started keep running until their runs stop them.
import { serveSpawns, type SpawnerReply } from "./spawner.js";

const send = (reply: SpawnerReply, handle?: unknown) =>
  process.send!(reply, handle as undefined, { keepOpen: false });

process.on("message", serveSpawns(send));
process.on("disconnect", () => process.exit(0));
