/**
 * Entry of one worker thread behind the wasm kernels: instantiates the kernels module on the
 * caller's shared memory, then sleeps in Atomics.wait until the caller posts a product or a task,
 * joins it if it is still open, claims chunks or units of it alongside the other threads in its
 * own workspace and scratch, and leaves the job (which wakes the caller if it was the last one).
 */
import { parentPort, workerData } from "node:worker_threads";
import { lowerThisThreadsPriority } from "../../thread-priority";
import { TASKS } from "../threads-table";
import { Mailbox, OP_SGEMM, OP_TASK, runClaimedChunks, type SgemmWorkerData } from "./sgemm-protocol";
import { threadContext } from "./wasm-kernels";
import { instantiateKernels, kernelsModule } from "./wasm-module";

// Before any work: the kernels yield the cores to the server's main thread (see thread-priority.ts).
lowerThisThreadsPriority();
const data = (workerData as { data: SgemmWorkerData }).data;
const kernels = instantiateKernels(kernelsModule(data.wasmPath), data.memory);
const mailbox = new Mailbox(data.memory.buffer, data.mailbox);
const local = threadContext(kernels, data.memory, data.work);
parentPort?.postMessage("ready");

function runTask(): void {
  const job = mailbox.readTask();
  const fn = TASKS[job.task];
  if (!fn) throw new Error(`no task ${job.task}`);
  const scratchFloats = job.scratchStride / 4;
  const ctx = { ...local, scratch: local.f32(job.scratch + data.index * job.scratchStride, scratchFloats) };
  for (let unit = mailbox.claim(); unit < job.units; unit = mailbox.claim()) fn(ctx, job.args, unit);
}

let seen = 0;
for (;;) {
  seen = mailbox.awaitJob(seen);
  if (mailbox.stopped()) break;
  if (!mailbox.join(seen)) continue;
  let ok = true;
  try {
    const op = mailbox.op();
    if (op === OP_SGEMM) runClaimedChunks(kernels, mailbox.readJob(), mailbox.readPartition(), mailbox, data.work);
    else if (op === OP_TASK) runTask();
    else ok = false;
  } catch {
    ok = false;
  }
  mailbox.finish(ok);
}
