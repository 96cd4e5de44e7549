// Worker-thread bootstrap: registers tsx's loader in this thread, then loads the TypeScript entry
// named in workerData. (Node 20 does not apply `--import` loaders to a worker's own entry file.)
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
