/**
 * Which model and seq_id a protobuf request was for, read from a body that failed to decode. The
 * SDK's ForwardBackwardRequest carries `model_id` (field 1) and `seq_id` (field 2) ahead of its
 * data, and protobuf writes fields in number order, so both are usually readable even when a datum
 * further on is not: the server can then use up that seq_id (SeqQueue.refuse) instead of leaving
 * the model to wait for it until the gap timeout.
 */
import { ProtoReader, read, WireType } from "./proto/wire-format";
import { PROTOBUF_CONTENT_TYPE } from "./server-body";

export interface SeqAddress {
  model_id: string;
  seq_id: number;
}

const MODEL_ID_FIELD = 1;
const SEQ_ID_FIELD = 2;

/** The address in a protobuf body; undefined for any other body, or when the fields are not there. */
export function seqAddressOfUnreadable(bytes: Uint8Array, contentType: string | undefined): SeqAddress | undefined {
  if ((contentType ?? "").split(";")[0]!.trim().toLowerCase() !== PROTOBUF_CONTENT_TYPE) return undefined;
  let modelId: string | undefined;
  let seqId: number | undefined;
  try {
    for (const field of new ProtoReader(bytes).fields()) {
      if (field.field === MODEL_ID_FIELD && field.type === WireType.LengthDelimited) modelId = read.string(field);
      else if (field.field === SEQ_ID_FIELD && field.type === WireType.Varint) seqId = read.int32(field);
      if (modelId !== undefined && seqId !== undefined) break;
    }
  } catch {
    // The rest of the body is what failed; whatever came before it was read.
  }
  return modelId !== undefined && seqId !== undefined ? { model_id: modelId, seq_id: seqId } : undefined;
}
