// The process spawner: a small Node process that starts commands for the server and streams their
// output back over IPC (lib/spawner.ts). Forking copies the forking process's page tables, so a
// spawn from the server, which holds the database and the engine's memories (gigabytes), blocks
// its main thread for tens of milliseconds; from this process, which holds only itself, it costs
// about one. Plain JavaScript, so it starts without a loader.
//   in:  {op: "spawn", id, file, args, cwd, env, fd3?, detached, graceMs} | {op: "kill", id}
//   out: {op: "out", id, stream: 1 | 2, data (base64)} … then {op: "end", id, code, signal, error}
// When the server goes away (the IPC channel closes) every running command's group is killed.
import { spawn } from "node:child_process";

const running = new Map();

const send = (message) => {
  if (process.connected) process.send(message);
};

function kill(entry) {
  const pid = entry?.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(entry.detached ? -pid : pid, "SIGKILL");
  } catch {
    // already gone
  }
}

function start({ id, file, args, cwd, env, fd3, detached, graceMs }) {
  let child;
  try {
    child = spawn(file, args, {
      cwd,
      env,
      detached,
      stdio: ["ignore", "pipe", "pipe", fd3 === undefined ? "ignore" : "pipe"],
    });
  } catch (error) {
    send({ op: "end", id, code: null, signal: null, error: error.message });
    return;
  }
  const entry = { child, detached };
  running.set(id, entry);
  if (fd3 !== undefined) {
    const pipe = child.stdio[3];
    pipe.on("error", () => {}); // the command failed to start; its exit reports why
    pipe.end(fd3);
  }
  let ended = false;
  let code = null;
  let signal = null;
  let error = null;
  const end = () => {
    if (ended) return;
    ended = true;
    running.delete(id);
    child.stdout.destroy();
    child.stderr.destroy();
    // Whatever is left of a detached group (background jobs) goes with the call.
    if (detached) kill(entry);
    send({ op: "end", id, code, signal, error });
  };
  const forward = (stream) => (chunk) => send({ op: "out", id, stream, data: chunk.toString("base64") });
  child.stdout.on("data", forward(1));
  child.stderr.on("data", forward(2));
  child.on("error", (e) => {
    error = e.message;
    end();
  });
  child.on("exit", (c, s) => {
    code = c;
    signal = s;
    // Give the pipes a moment to drain; a daemon that holds them open does not hold the call.
    let open = 2;
    const closed = () => {
      if (--open === 0) end();
    };
    for (const stream of [child.stdout, child.stderr]) {
      if (stream.closed) closed();
      else stream.once("close", closed);
    }
    setTimeout(end, graceMs);
  });
}

process.on("message", (message) => {
  if (message.op === "spawn") start(message);
  else if (message.op === "kill") kill(running.get(message.id));
});

process.on("disconnect", () => {
  for (const entry of running.values()) kill(entry);
  process.exit(0);
});
