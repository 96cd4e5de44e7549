/**
 * Before-images for rewind: what each workspace file held just before the agent's call changed it,
 * captured through lib/workspaces/safe-fs.ts before the call runs and kept in the database, owned
 * by the conversation's owner (file_snapshot rows, contents in snapshot_blob once per sha-256).
 *
 * write / edit / edit_lines: the one file the call names (where it really lies), or "absent".
 * bash can change anything, so before it runs every file the workspace walk sees is hashed and any
 * content not stored yet is stored; after it, the walk runs again and only the files that differ
 * (changed, created or deleted) keep a before-image. Contents stay stored once seen (per owner and
 * sha-256), so the first bash call in a workspace copies its files once and later ones only hash
 * them and store what is new: dropping the unused ones would make every call copy them all again.
 * What the walk sees is what bash's rewind restores: regular files, not under `.git` nor in a path
 * a `.gitignore` ignores, each up to MAX_SNAPSHOT_FILE_BYTES. Symlinks and empty folders bash makes
 * or removes are not put back, and a file past the size limit is left as bash left it.
 */
import { createHash } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "@/lib/db/client";
import { fileSnapshot, snapshotBlob } from "@/lib/db/schema";
import { walkFiles } from "@/lib/tools/walk";
import { toolRelativePath, withToolRoot } from "@/lib/tools/tool-path";
import type { ToolContext } from "@/lib/tools/types";
import { entryBeneath, readFileIn, type Root } from "@/lib/workspaces/safe-fs";

/** Larger files are not snapshotted (the file tools' own limit is far below this). */
export const MAX_SNAPSHOT_FILE_BYTES = 16 * 1024 * 1024;

/** A file's state: its content's sha-256 and mode, or absent (sha256 null). */
export type FileImage = { sha256: string | null; mode: number | null };
export const ABSENT: FileImage = { sha256: null, mode: null };

export type SnapshotOwner = { db: Db; ownerId: string; conversationId: string };
/** Whose change a before-image is: a tool call's or a rewind's. */
export type ChangedBy = { toolCallId: string } | { rewindId: string };

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Stores the blobs not stored yet; returns the shas this call inserted. */
async function storeBlobs(db: Db, ownerId: string, blobs: Map<string, Buffer>): Promise<string[]> {
  if (blobs.size === 0) return [];
  const shas = [...blobs.keys()];
  const inserted: string[] = [];
  for (let i = 0; i < shas.length; i += 200) {
    const batch = shas.slice(i, i + 200);
    const rows = await db
      .insert(snapshotBlob)
      .values(batch.map((sha) => ({ ownerId, sha256: sha, bytes: blobs.get(sha)! })))
      .onConflictDoNothing()
      .returning({ sha256: snapshotBlob.sha256 });
    inserted.push(...rows.map((r) => r.sha256));
  }
  return inserted;
}

/** A regular file's image in `root` at real relative path `rel` (absent when missing); null when it cannot be captured. */
async function imageAt(
  root: Root,
  rel: string,
): Promise<{ image: FileImage; bytes: Buffer | null; rel: string } | null> {
  const entry = await entryBeneath(root, rel);
  if (!entry.ok) return entry.reason === "not_found" ? { image: ABSENT, bytes: null, rel } : null;
  try {
    if (!entry.stat) return { image: ABSENT, bytes: null, rel: entry.rel };
    const file = await readFileIn(entry.dir, entry.name, MAX_SNAPSHOT_FILE_BYTES);
    if (!file.ok) return null;
    return { image: { sha256: sha256(file.bytes), mode: file.stat.mode & 0o7777 }, bytes: file.bytes, rel: entry.rel };
  } finally {
    await entry.dir.close();
  }
}

async function insertImages(
  owner: SnapshotOwner,
  by: ChangedBy,
  images: { path: string; image: FileImage }[],
): Promise<void> {
  if (images.length === 0) return;
  await owner.db.insert(fileSnapshot).values(
    images.map(({ path, image }) => ({
      ownerId: owner.ownerId,
      conversationId: owner.conversationId,
      toolCallId: "toolCallId" in by ? by.toolCallId : null,
      rewindId: "rewindId" in by ? by.rewindId : null,
      path,
      sha256: image.sha256,
      mode: image.mode,
    })),
  );
}

/** Captures the current images of `rels` (real workspace-relative paths) as `by`'s before-images. */
export async function captureRels(
  owner: SnapshotOwner,
  by: ChangedBy,
  root: Root,
  rels: string[],
): Promise<{ path: string; image: FileImage }[]> {
  const images: { path: string; image: FileImage }[] = [];
  const blobs = new Map<string, Buffer>();
  for (const rel of rels) {
    const got = await imageAt(root, rel);
    if (!got) continue;
    images.push({ path: got.rel, image: got.image });
    if (got.bytes && got.image.sha256) blobs.set(got.image.sha256, got.bytes);
  }
  await storeBlobs(owner.db, owner.ownerId, blobs);
  await insertImages(owner, by, images);
  return images;
}

/** The one file a write / edit / edit_lines call names, captured before it runs. */
async function captureBeforeFileCall(
  owner: SnapshotOwner,
  toolCallId: string,
  ctx: ToolContext,
  pathArg: string,
): Promise<void> {
  await withToolRoot(ctx, async (root, policy) => {
    const where = toolRelativePath(policy, root, ctx.workspace, pathArg);
    // A path the tool will refuse changes nothing, so it needs no before-image.
    if (!where.ok) return;
    await captureRels(owner, { toolCallId }, root, [where.rel]);
  });
}

type Manifest = Map<string, FileImage>;

/** Contents held in memory before they are written: a large workspace is stored in parts. */
const FLUSH_BYTES = 32 * 1024 * 1024;

/** Hashes every file the walk sees; with `keep`, hands each content to it (awaited, in walk order). */
async function manifestOf(
  root: Root,
  keep?: (sha: string, bytes: Buffer) => Promise<void>,
): Promise<{ files: Manifest; bytes: number }> {
  const files: Manifest = new Map();
  let bytes = 0;
  await walkFiles(root, "", async (file, dir) => {
    if (file.symlink) return;
    const read = await readFileIn(dir, file.name, MAX_SNAPSHOT_FILE_BYTES).catch(() => null);
    if (!read?.ok) return;
    const sha = sha256(read.bytes);
    files.set(file.rel, { sha256: sha, mode: read.stat.mode & 0o7777 });
    bytes += read.bytes.length;
    await keep?.(sha, read.bytes);
  });
  return { files, bytes };
}

/** What a bash call's capture found before it ran: the files, and the contents it stored for them. */
export type BashBaseline = { files: Manifest; inserted: string[]; bytes: number; ms: number };

/** Before a bash call: every file's image, with contents not yet stored stored (in parts of FLUSH_BYTES). */
export async function captureBeforeBash(owner: SnapshotOwner, ctx: ToolContext): Promise<BashBaseline> {
  const started = performance.now();
  return withToolRoot(ctx, async (root) => {
    const inserted: string[] = [];
    const seenShas = new Set<string>();
    let pending = new Map<string, Buffer>();
    let pendingBytes = 0;
    const flush = async () => {
      const batch = pending;
      pending = new Map();
      pendingBytes = 0;
      const shas = [...batch.keys()];
      for (let i = 0; i < shas.length; i += 500) {
        const rows = await owner.db
          .select({ sha256: snapshotBlob.sha256 })
          .from(snapshotBlob)
          .where(and(eq(snapshotBlob.ownerId, owner.ownerId), inArray(snapshotBlob.sha256, shas.slice(i, i + 500))));
        for (const r of rows) batch.delete(r.sha256);
      }
      inserted.push(...(await storeBlobs(owner.db, owner.ownerId, batch)));
    };
    const { files, bytes } = await manifestOf(root, async (sha, content) => {
      if (seenShas.has(sha)) return;
      seenShas.add(sha);
      pending.set(sha, content);
      pendingBytes += content.length;
      if (pendingBytes >= FLUSH_BYTES) await flush();
    });
    await flush();
    return { files, inserted, bytes, ms: performance.now() - started };
  });
}

/** The paths whose image differs between two manifests, with their image in `before`. */
export function changedPaths(before: Manifest, after: Manifest): { path: string; image: FileImage }[] {
  const out: { path: string; image: FileImage }[] = [];
  for (const [path, image] of before) {
    const now = after.get(path);
    if (!now || now.sha256 !== image.sha256 || now.mode !== image.mode) out.push({ path, image });
  }
  for (const path of after.keys()) if (!before.has(path)) out.push({ path, image: ABSENT });
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** After the bash call: the before-images of the files it changed, created or deleted. */
async function recordBashChanges(
  owner: SnapshotOwner,
  toolCallId: string,
  ctx: ToolContext,
  baseline: BashBaseline,
): Promise<{ changed: number; ms: number }> {
  const started = performance.now();
  const changed = await withToolRoot(ctx, async (root) => changedPaths(baseline.files, (await manifestOf(root)).files));
  await insertImages(owner, { toolCallId }, changed);
  return { changed: changed.length, ms: baseline.ms + performance.now() - started };
}

/** The stored contents of an image (null for absent). */
export async function blobOf(db: Db, ownerId: string, sha: string): Promise<Buffer> {
  const [row] = await db
    .select({ bytes: snapshotBlob.bytes })
    .from(snapshotBlob)
    .where(and(eq(snapshotBlob.ownerId, ownerId), eq(snapshotBlob.sha256, sha)));
  if (!row) throw new Error(`snapshot content ${sha} is missing`);
  return row.bytes;
}

/**
 * Runs a call with its before-images captured: the named file for the file tools, the workspace
 * walk for bash (its changes recorded after it), nothing for the read-only tools.
 */
export async function withBeforeImages<T>(
  owner: SnapshotOwner,
  call: { id: string; name: string; args: Record<string, unknown> },
  ctx: ToolContext,
  run: () => Promise<T>,
): Promise<T> {
  if (call.name === "write" || call.name === "edit" || call.name === "edit_lines") {
    if (typeof call.args.path === "string") await captureBeforeFileCall(owner, call.id, ctx, call.args.path);
    return run();
  }
  if (call.name !== "bash") return run();
  const baseline = await captureBeforeBash(owner, ctx);
  try {
    return await run();
  } finally {
    await recordBashChanges(owner, call.id, ctx, baseline);
  }
}
