/**
 * forward_backward chunking as the SDK does it (tinker-api.md §4.6): split datums into requests of
 * at most `fwdbwd_max_chunk_len` datums and `fwdbwd_max_chunk_bytes_count` estimated bytes (10 per
 * token and per loss input element), then merge the per-chunk results: outputs concatenated in
 * order, metrics combined by their `:reduction` suffix weighted by each chunk's datum count.
 */
import type { ForwardBackwardResult } from "../types";
import type { WireDatum } from "./wire";

function estimateWireDatumBytes(datum: WireDatum): number {
  const tokens = datum.model_input.chunks.reduce((n, chunk) => n + chunk.tokens.length, 0);
  const inputs = Object.values(datum.loss_fn_inputs).reduce((n, tensor) => n + tensor.data.length, 0);
  return 10 * tokens + 10 * inputs;
}

export function chunkDatums(datums: WireDatum[], maxLen: number, maxBytes: number): WireDatum[][] {
  const chunks: WireDatum[][] = [];
  let current: WireDatum[] = [];
  let bytes = 0;
  for (const datum of datums) {
    const size = estimateWireDatumBytes(datum);
    if ((current.length > 0 && bytes + size > maxBytes) || current.length === maxLen) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Combine results of consecutive chunks; a metric missing from any chunk is dropped, as the SDK does. */
export function combineForwardBackward(results: ForwardBackwardResult[]): ForwardBackwardResult {
  if (results.length === 1) return results[0];
  const weights = results.map((r) => r.lossFnOutputs.length);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(results[0]?.metrics ?? {})) {
    if (!results.every((r) => key in r.metrics)) continue;
    const values = results.map((r) => r.metrics[key]);
    const reduction = key.slice(key.lastIndexOf(":") + 1);
    const weightedMean = () => values.reduce((acc, v, i) => acc + v * weights[i], 0) / (totalWeight || 1);
    switch (reduction) {
      case "sum":
        metrics[key] = values.reduce((a, b) => a + b, 0);
        break;
      case "mean":
        metrics[key] = weightedMean();
        break;
      case "min":
        metrics[key] = Math.min(...values);
        break;
      case "max":
        metrics[key] = Math.max(...values);
        break;
      case "slack":
        metrics[key] = Math.max(...values) - weightedMean();
        break;
      case "unique":
        for (const [i, v] of values.entries()) metrics[i === 0 ? key : `${key}_${i + 1}`] = v;
        break;
      default:
        // Unknown reductions (hash_unordered among them) cannot be folded faithfully: dropped.
        break;
    }
  }
  return { lossFnOutputs: results.flatMap((r) => r.lossFnOutputs), metrics };
}
