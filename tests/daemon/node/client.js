// An IDE-side client of `swarm serve`, written the way a VS Code extension would be:
// @grpc/grpc-js with the service loaded from the .proto files by @grpc/proto-loader.
//
// It lists projects, submits a mission and follows its events to the end, holds a
// lock on the file "its user" edits (agents wait for it), follows the
// project's event stream until it sees its own lock granted and released, and prints
// one JSON summary on stdout. Settings come from the environment:
//   SWARM_TARGET (host:port), SWARM_TOKEN, SWARM_PROTO_ROOT (repository root),
//   SWARM_PROJECT, SWARM_PATH (the file to lock).
"use strict";

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`client.js: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const target = env("SWARM_TARGET");
const token = env("SWARM_TOKEN");
const root = env("SWARM_PROTO_ROOT");
const project = env("SWARM_PROJECT");
const filePath = env("SWARM_PATH");

const definition = protoLoader.loadSync(path.join("proto", "swarm", "v1", "service.proto"), {
  includeDirs: [root],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const swarmV1 = grpc.loadPackageDefinition(definition).swarm.v1;
const client = new swarmV1.Swarm(target, grpc.credentials.createInsecure());

const metadata = () => {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  md.set("x-trace-id", "node-ide-client");
  return md;
};
const deadline = (seconds) => new Date(Date.now() + seconds * 1000);

const unary = (method, request) =>
  new Promise((resolve, reject) => {
    client[method](request, metadata(), { deadline: deadline(10) }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });

async function main() {
  const summary = { target };
  const projects = await unary("ListProjects", {});
  summary.projects = projects.projects.map((p) => p.project);

  try {
    const mission = await unary("SubmitMission", {
      project: { project },
      kind: "rename",
      params: { old: "calculate_total", new: "compute_order_total" },
      workspace: project,
      skip_tests: process.env.SWARM_SKIP_TESTS === "1",
    });
    summary.mission = { code: "OK", id: mission.mission_id, submitted_state: mission.state };
    // Follow the mission's events until it finishes (the server ends the stream then).
    const kinds = {};
    await new Promise((resolve, reject) => {
      const follow = client.FollowMission(
        { project: { project }, mission_id: mission.mission_id },
        metadata(),
        { deadline: deadline(120) },
      );
      follow.on("data", (record) => {
        const kind = record.event.payload;
        kinds[kind] = (kinds[kind] || 0) + 1;
      });
      follow.on("error", reject);
      follow.on("end", resolve);
    });
    const done = await unary("GetMission", { project: { project }, mission_id: mission.mission_id });
    summary.mission.events = kinds;
    summary.mission.state = done.state;
    summary.mission.files_changed = done.files_changed;
  } catch (err) {
    summary.mission = { code: grpc.status[err.code], details: err.details };
  }

  const ref = { project };
  const holder = "human:vscode";
  const seen = [];
  const stream = client.StreamEvents({ project: ref, follow: true }, metadata(), {
    deadline: deadline(30),
  });
  const finished = new Promise((resolve, reject) => {
    stream.on("data", (record) => {
      const ev = record.event;
      if (ev.payload === "signal" && ev.signal.subject === filePath) {
        seen.push(ev.signal.kind);
        if (ev.signal.kind === "SIGNAL_KIND_LOCK_RELEASED") {
          stream.cancel();
        }
      }
    });
    stream.on("error", (err) => (err.code === grpc.status.CANCELLED ? resolve() : reject(err)));
    stream.on("end", resolve);
  });

  const lock = await unary("AcquireLock", { project: ref, path: filePath, holder, ttl_s: 30 });
  const locks = await unary("ListLocks", { project: ref });
  const renewed = await unary("RenewLock", {
    project: ref,
    path: filePath,
    holder,
    token: lock.token,
    ttl_s: 60,
  });
  summary.lock = {
    holder: lock.holder,
    token_hex: Buffer.from(lock.token).toString("hex"),
    listed: locks.locks.map((l) => `${l.path}@${l.holder}`),
    renewed_same_token: Buffer.compare(renewed.token, lock.token) === 0,
  };
  if (process.env.SWARM_HOLD_FILE) {
    // Hold the lock until the test says to let go (it checks agents wait meanwhile).
    const fs = require("fs");
    process.stdout.write(JSON.stringify({ holding: filePath }) + "\n");
    while (!fs.existsSync(process.env.SWARM_HOLD_FILE)) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await unary("ReleaseLock", { project: ref, path: filePath, holder, token: lock.token });
  await finished;
  summary.lock_signals = seen;
  process.stdout.write(JSON.stringify(summary) + "\n");
  client.close();
}

main().catch((err) => {
  console.error(`client.js: ${err.code !== undefined ? grpc.status[err.code] : ""} ${err.message}`);
  process.exit(1);
});
