/**
 * GET /api/checkpoints/:id/peft: the caller's checkpoint as a PEFT LoRA adapter, downloaded as
 * a .tar of one folder (adapter_config.json, adapter_model.safetensors) that
 * `PeftModel.from_pretrained` reads once unpacked. 401 signed out, 404 for anyone else's
 * checkpoint, 409 for one this server does not hold (a remote service's).
 */
import { requireApiUser } from "@/lib/auth/server";
import { tarChunks } from "@/lib/charts/tar";
import { getRuntime } from "@/lib/runtime";
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { exportCheckpointPeft } from "@/lib/training/checkpoint-actions";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const { id } = await params;
    const user = await requireApiUser();
    const result = await exportCheckpointPeft({ db: (await getRuntime()).db, ownerId: user.id, checkpointId: id });
    switch (result.status) {
      case "not_found":
        throw new AppError("not_found:checkpoint");
      case "unsupported":
        throw new AppError("conflict:checkpoint", result.reason);
      case "ok":
        break;
      default: {
        const never: never = result;
        throw new Error(`unexpected export result ${JSON.stringify(never)}`);
      }
    }
    const chunks = tarChunks(result.files);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
    return new Response(body, {
      headers: {
        "Content-Type": "application/x-tar",
        "Content-Disposition": `attachment; filename="${result.archiveName}.tar"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (err) {
    if (!isAppError(err)) log.error("checkpoint.export_failed", { error: err });
    return errorResponse(err);
  }
}
