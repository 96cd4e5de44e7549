/**
 * Entry of the worker thread behind the two-thread wasm kernels: instantiates the kernels module
 * on the caller's shared memory, then sleeps in Atomics.wait until the caller posts a product,
 * computes chunks of it in its own workspace alongside the caller and signals completion.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Mailbox, OP_SGEMM, OP_STOP, runClaimedChunks, type SgemmWorkerData } from "./sgemm-protocol";
import { instantiateKernels, kernelsModule } from "./wasm-module";

const data = (workerData as { data: SgemmWorkerData }).data;
const kernels = instantiateKernels(kernelsModule(data.wasmPath), data.memory);
const mailbox = new Mailbox(data.memory.buffer, data.mailbox);
parentPort?.postMessage("ready");

let seen = 0;
for (;;) {
  seen = mailbox.awaitJob(seen);
  if (!mailbox.join(seen)) continue;
  const op = mailbox.op();
  if (op === OP_STOP) {
    mailbox.finish(seen, true);
    break;
  }
  let ok = op === OP_SGEMM;
  if (ok) {
    try {
      runClaimedChunks(kernels, mailbox.readJob(), mailbox.readPartition(), mailbox, data.work);
    } catch {
      ok = false;
    }
  }
  mailbox.finish(seen, ok);
}
