// The local Kinesis: kinesalite with its LevelDB store on disk, one process of its own.
//
//   node server.js --host 127.0.0.1 --port 4567 --path .local/kinesis/leveldb
//
// Prints "ready <port>" once it listens (port 0 picks a free one). A PutRecords is answered after
// its records are written to LevelDB's log, so a record that was acknowledged survives the
// crash of this process or of the runtime that started it (not the loss of the machine's power:
// the log is not fsynced). The process exits on SIGTERM/SIGINT, and by itself when the process
// that started it is gone (a `kill -9` of the runtime must not leave the store locked).
"use strict";

const kinesalite = require("kinesalite");

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const host = option("host", "127.0.0.1");
const port = Number(option("port", "4567"));
const path = option("path", "");
if (!path) {
  console.error("server.js: --path <folder for the LevelDB store> is required");
  process.exit(2);
}

const server = kinesalite({
  path,
  // Streams are ACTIVE at once, as the local runtime creates them before it serves anything.
  createStreamMs: 0,
  deleteStreamMs: 0,
  updateStreamMs: 0,
  shardLimit: 50,
});

function shutdown(code) {
  server.close();
  process.exit(code);
}

server.on("error", (err) => {
  console.error(`local kinesis: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  console.log(`ready ${server.address().port}`);
});

process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown(0);
}, 200).unref();
