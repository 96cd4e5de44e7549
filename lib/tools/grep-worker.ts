/** Worker-thread entry for grep: runs one search and posts its report (or its error). */
import { parentPort, workerData } from "node:worker_threads";
import { searchFiles, type GrepRequest } from "./grep-search";

const request = (workerData as { data: GrepRequest }).data;
searchFiles(request).then(
  (report) => parentPort!.postMessage({ ok: true, report }),
  (error: unknown) =>
    parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
);
