/**
 * Worker-thread entry used by tokenizer.test.ts: loads the Qwen3 tokenizer inside a worker and
 * posts back the encoding of the text it was given, proving the bundled vocabulary loads there.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadQwen3Tokenizer } from "./tokenizer";

const { text } = (workerData as { data: { text: string } }).data;
const tok = await loadQwen3Tokenizer();
parentPort?.postMessage({ ids: tok.encode(text), imEnd: tok.idOf("<|im_end|>") });
