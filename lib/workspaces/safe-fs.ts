/**
 * File access beneath a workspace root that a concurrent rename cannot redirect. Every file tool
 * (read, write, edit, edit_lines, glob, grep), the diff preview, the file viewer and the file tree
 * reach the workspace only through this module.
 *
 * The threat: a sandboxed `bash` call owns the workspace and can swap any name in it for a symlink
 * between our check and our use (`renameat2(RENAME_EXCHANGE)` in a loop). On the host a relative
 * link such as `../<other workspace>` points at another user's files, so any code that checks a
 * path and then opens it again by name can be sent outside.
 *
 * The mechanism: no path is ever opened twice. We hold an open descriptor for the root and walk
 * the path one component at a time, opening each name relative to the directory we already hold
 * (`/proc/self/fd/<dirfd>/<name>`: the kernel resolves the descriptor, not a path, so renaming the
 * parent changes nothing) with O_NOFOLLOW, so a symlink is never followed by the kernel. A symlink
 * we meet is read and resolved by us against the directories we hold: `..` pops back to the
 * directory we came through and may not climb above the root, and an absolute target is accepted
 * only when it names the workspace itself (its host path, or where the sandbox mounts it). The
 * descriptor we end on is then checked once more through `/proc/self/fd/<fd>` (defence in depth)
 * and used for everything after: fstat, read, and for writes a temporary file created in the held
 * directory and renamed over the name there, so a swap of the name redirects nothing either.
 *
 * Why not run the file tools inside the bubblewrap sandbox as bash does: the viewer and the tree
 * answer every page load, a bwrap start per request costs more than the whole request, and
 * bubblewrap is optional (an administrator may run without it) while this protection may not be.
 * openat2(RESOLVE_BENEATH) would do the walk in the kernel, but Node does not expose it; the
 * component walk above gives the same guarantee with the calls Node has.
 *
 * Relative imports only: the grep worker thread loads this file on its own.
 */
import { randomBytes } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;

/** As the kernel's own limit on symlinks followed in one lookup. */
const MAX_SYMLINK_HOPS = 40;

/** An open workspace root: every lookup starts from this descriptor. */
export type Root = {
  handle: FileHandle;
  /** Where the root really is (read back from its descriptor). */
  real: string;
  /** Absolute prefixes that name the root in a symlink's target: its host paths and the sandbox's mount point. */
  aliases: string[];
};

export type RefusalReason = "outside" | "not_found" | "not_a_directory" | "not_a_file" | "too_many_links";
/** `missing`: for not_found, the real workspace-relative path of the first name that does not exist. */
export type Refusal = { ok: false; reason: RefusalReason; error: string; missing?: string };

/** An open descriptor for what a path names (file or directory) and where it really is. */
export type Opened = { ok: true; handle: FileHandle; rel: string; stat: Stats };

/** The directory a path's last name lives in (held open), for writing that name. */
export type Entry = {
  ok: true;
  dir: FileHandle;
  name: string;
  /** The entry's real workspace-relative path. */
  rel: string;
  /** The entry as it is now (never followed), or null when it does not exist yet. */
  stat: Stats | null;
};

/** True when `child` is `root` itself or lies below it (both absolute and normalised). */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * `rel` ("/"-separated, relative) normalised without touching the disk, or null when its `..`
 * climbs above the root. "" is the root itself.
 */
export function normalizeBeneath(rel: string): string | null {
  const normal = path.posix.normalize(`/${rel}`).slice(1).replace(/\/+$/, "");
  const climbs = rel.split("/").reduce<number | null>((depth, part) => {
    if (depth === null) return null;
    if (part === "..") return depth === 0 ? null : depth - 1;
    return part === "" || part === "." ? depth : depth + 1;
  }, 0);
  return climbs === null ? null : normal;
}

/** The name `name` inside the directory `dir` holds: resolved by the kernel through the descriptor. */
function at(dir: FileHandle, name: string): string {
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** Where an open descriptor really is now, as the kernel sees it. */
export function fdPath(handle: FileHandle): Promise<string> {
  return fs.readlink(`/proc/self/fd/${handle.fd}`);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function relOf(root: Root, real: string): string {
  return path.relative(root.real, real).split(path.sep).join("/");
}

const refusal = (reason: RefusalReason, error: string): Refusal => ({ ok: false, reason, error });
const OUTSIDE = refusal("outside", "resolves outside the workspace (through a symbolic link)");

export async function openRoot(workspace: string, extraAliases: string[] = []): Promise<Root> {
  const handle = await fs.open(workspace, O_RDONLY | O_DIRECTORY);
  try {
    const real = await fdPath(handle);
    return { handle, real, aliases: [...new Set([real, path.resolve(workspace), ...extraAliases])] };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Runs `use` with the workspace's root open, and closes it afterwards. */
export async function withRoot<T>(
  workspace: string,
  extraAliases: string[],
  use: (root: Root) => Promise<T>,
): Promise<T> {
  const root = await openRoot(workspace, extraAliases);
  try {
    return await use(root);
  } finally {
    await root.handle.close();
  }
}

async function tryOpen(file: string, flags: number, mode?: number): Promise<FileHandle | string> {
  try {
    return await fs.open(file, flags, mode);
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined) throw error;
    return code;
  }
}

/** The target of `name` in `dir` if it is a symlink, else null (never follows it). */
async function readlinkIn(dir: FileHandle, name: string): Promise<string | null> {
  try {
    return await fs.readlink(at(dir, name));
  } catch (error) {
    const code = errnoCode(error);
    if (code === "EINVAL" || code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
}

/** `name` in `dir` as it is (lstat), or null when it does not exist. */
export async function lstatIn(dir: FileHandle, name: string): Promise<Stats | null> {
  try {
    return await fs.lstat(at(dir, name));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
}

/** The subdirectory `name` of `dir`, or null when it is anything else (a symlink included) or gone. */
export async function openSubdir(dir: FileHandle, name: string): Promise<FileHandle | null> {
  const opened = await tryOpen(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (typeof opened !== "string") return opened;
  if (["ENOENT", "ENOTDIR", "ELOOP", "EACCES"].includes(opened)) return null;
  throw Object.assign(new Error(`open ${name}: ${opened}`), { code: opened });
}

export function listDir(dir: FileHandle): Promise<Dirent[]> {
  return fs.readdir(`/proc/self/fd/${dir.fd}`, { withFileTypes: true });
}

/** Final-component handling: open whatever is there, or stop at its directory (for writes). */
type Goal = "open" | "entry";

type WalkOptions = {
  /** Create a missing directory on the way, when this says its real relative path may be created. */
  mayCreateDir?: (rel: string) => boolean;
};

/**
 * The walk behind `openBeneath` and `entryBeneath`. `parts` is consumed as the kernel would, but
 * each step opens one name relative to a descriptor we hold, with O_NOFOLLOW.
 */
async function walk(root: Root, rel: string, goal: "open", options?: WalkOptions): Promise<Opened | Refusal>;
async function walk(root: Root, rel: string, goal: "entry", options?: WalkOptions): Promise<Entry | Refusal>;
async function walk(root: Root, rel: string, goal: Goal, options: WalkOptions = {}): Promise<Opened | Entry | Refusal> {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  const held: FileHandle[] = [];
  let hops = 0;
  const current = () => held.at(-1) ?? root.handle;
  const dropAll = async () => {
    for (const handle of held.splice(0)) await handle.close();
  };
  /** Puts a symlink's target in front of what is left; null when it leaves the workspace. */
  const follow = async (target: string): Promise<Refusal | null> => {
    if (++hops > MAX_SYMLINK_HOPS) return refusal("too_many_links", "too many levels of symbolic links");
    if (path.isAbsolute(target)) {
      const normal = path.posix.normalize(target);
      const alias = root.aliases.find((a) => isInside(a, normal));
      if (alias === undefined) return OUTSIDE;
      await dropAll();
      parts.unshift(
        ...path.posix
          .relative(alias, normal)
          .split("/")
          .filter((p) => p !== ""),
      );
    } else {
      parts.unshift(...target.split("/").filter((p) => p !== "" && p !== "."));
    }
    return null;
  };
  /** A descriptor for where the walk ended, checked to lie under the root. */
  const finish = async (handle: FileHandle): Promise<Opened | Refusal> => {
    const real = await fdPath(handle);
    if (!isInside(root.real, real)) {
      await handle.close();
      return OUTSIDE;
    }
    return { ok: true, handle, rel: relOf(root, real), stat: await handle.stat() };
  };
  try {
    while (parts.length > 0) {
      const name = parts.shift()!;
      if (name === "..") {
        if (held.length === 0) return OUTSIDE;
        await held.pop()!.close();
        continue;
      }
      const dir = current();
      if (parts.length > 0) {
        const sub = await tryOpen(at(dir, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (typeof sub !== "string") {
          held.push(sub);
          continue;
        }
        if (sub === "ENOTDIR" || sub === "ELOOP") {
          const target = await readlinkIn(dir, name);
          if (target === null) {
            // Not a symlink (any more): a file in the middle of the path, or a swap we retry.
            if (++hops > MAX_SYMLINK_HOPS) return refusal("not_a_directory", `${name} is not a directory`);
            const stat = await lstatIn(dir, name);
            if (stat?.isDirectory() || stat?.isSymbolicLink()) {
              parts.unshift(name);
              continue;
            }
            return refusal("not_a_directory", `${name} is not a directory`);
          }
          const refused = await follow(target);
          if (refused) return refused;
          continue;
        }
        if (sub === "ENOENT") {
          const dirRel = relOf(root, path.join(await fdPath(dir), name));
          if (options.mayCreateDir?.(dirRel) && ++hops <= MAX_SYMLINK_HOPS) {
            await fs.mkdir(at(dir, name)).catch((error) => {
              if (errnoCode(error) !== "EEXIST") throw error;
            });
            parts.unshift(name);
            continue;
          }
          return { ...refusal("not_found", "no such file or directory"), missing: dirRel };
        }
        throw Object.assign(new Error(`open ${name}: ${sub}`), { code: sub });
      }
      // The last name.
      if (goal === "entry") {
        const stat = await lstatIn(dir, name);
        if (stat?.isSymbolicLink()) {
          const target = await readlinkIn(dir, name);
          if (target !== null) {
            const refused = await follow(target);
            if (refused) return refused;
          } else parts.unshift(name);
          continue;
        }
        const real = await fdPath(dir);
        if (!isInside(root.real, real)) return OUTSIDE;
        // The directory's descriptor now belongs to the caller.
        const own = held.length > 0 ? held.pop()! : await fs.open(at(root.handle, "."), O_RDONLY | O_DIRECTORY);
        return { ok: true, dir: own, name, rel: relOf(root, path.join(real, name)), stat };
      }
      const opened = await tryOpen(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
      if (typeof opened !== "string") return await finish(opened);
      if (opened === "ELOOP") {
        const target = await readlinkIn(dir, name);
        if (target !== null) {
          const refused = await follow(target);
          if (refused) return refused;
        } else if (++hops > MAX_SYMLINK_HOPS) return refusal("too_many_links", "too many levels of symbolic links");
        else parts.unshift(name);
        continue;
      }
      if (opened === "ENOENT" || opened === "ENOTDIR") return refusal("not_found", "no such file or directory");
      // A socket (ENXIO) or a device we may not open.
      if (opened === "ENXIO" || opened === "ENODEV" || opened === "EACCES")
        return refusal("not_a_file", `${name} is not a regular file`);
      throw Object.assign(new Error(`open ${name}: ${opened}`), { code: opened });
    }
    // The path named a directory we hold (or the root): a fresh descriptor for it.
    if (goal === "entry") return refusal("not_a_file", "the path names a directory");
    return await finish(await fs.open(at(current(), "."), O_RDONLY | O_DIRECTORY));
  } finally {
    await dropAll();
  }
}

/**
 * Opens what `rel` names under the root (a file or a directory), following symlinks only while
 * they stay inside. The caller owns the handle and must close it.
 */
export function openBeneath(root: Root, rel: string): Promise<Opened | Refusal> {
  return walk(root, rel, "open");
}

/**
 * The directory `rel`'s last name lives in, held open, with a final symlink followed while it
 * stays inside (dangling ones too, so a write lands where the link points). Missing directories
 * on the way are created where `mayCreateDir` allows. The caller owns `dir` and must close it.
 */
export function entryBeneath(root: Root, rel: string, options: WalkOptions = {}): Promise<Entry | Refusal> {
  return walk(root, rel, "entry", options);
}

/** The first `length` bytes of an open file (fewer if it is shorter now); nothing past them is read. */
export async function readOpened(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

export type FileIn =
  | { ok: true; stat: Stats; bytes: Buffer }
  | { ok: false; reason: "missing" | "not_a_file" | "too_large"; stat?: Stats };

/** The regular file `name` of `dir`, never through a symlink and never more than `maxBytes`. */
export async function readFileIn(dir: FileHandle, name: string, maxBytes: number): Promise<FileIn> {
  const handle = await tryOpen(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (typeof handle === "string") return { ok: false, reason: handle === "ENOENT" ? "missing" : "not_a_file" };
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: "not_a_file", stat };
    if (stat.size > maxBytes) return { ok: false, reason: "too_large", stat };
    return { ok: true, stat, bytes: await readOpened(handle, stat.size) };
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the entry's file with `bytes`: a temporary file is created in the held directory
 * (O_EXCL, never through a link), written, flushed, given `mode`, and renamed over the name in
 * that same directory. Readers see the old file or the new one, never half of it.
 */
export async function replaceFile(entry: Entry, bytes: Uint8Array, mode: number): Promise<void> {
  const tmpName = `.cc-write-${randomBytes(8).toString("hex")}.tmp`;
  const tmp = await fs.open(at(entry.dir, tmpName), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    try {
      await tmp.writeFile(bytes);
      await tmp.chmod(mode);
      await tmp.datasync();
    } finally {
      await tmp.close();
    }
    await fs.rename(at(entry.dir, tmpName), at(entry.dir, entry.name));
  } catch (error) {
    await fs.unlink(at(entry.dir, tmpName)).catch(() => {});
    throw error;
  }
}

/**
 * Removes the entry's name (a file or a symlink, never a directory) from the held directory:
 * unlink never follows the last name, and the directory is the descriptor, so a swap redirects
 * nothing. A name already gone is not an error.
 */
export async function removeFile(entry: Entry): Promise<void> {
  try {
    await fs.unlink(at(entry.dir, entry.name));
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
}

/** Entries a hard-link proof may visit before giving up (and refusing the read). */
const LINK_PROOF_MAX_ENTRIES = 20_000;

/**
 * Does a walk of the workspace find all `nlink` names of this inode? A multiply-linked file shares
 * its bytes with names we cannot see from the inode, so reading it is allowed only with this proof.
 * The walk never follows a symlink, so every name it counts is inside.
 */
export async function allLinksInside(root: Root, stat: Stats): Promise<boolean> {
  let found = 0;
  let visited = 0;
  const visit = async (dir: FileHandle): Promise<boolean> => {
    for (const entry of await listDir(dir).catch(() => [])) {
      if (++visited > LINK_PROOF_MAX_ENTRIES) return false;
      if (entry.isDirectory()) {
        const sub = await openSubdir(dir, entry.name);
        if (!sub) continue;
        try {
          if (await visit(sub)) return true;
        } finally {
          await sub.close();
        }
      } else if (entry.isFile()) {
        const s = await lstatIn(dir, entry.name).catch(() => null);
        if (s && s.dev === stat.dev && s.ino === stat.ino && ++found >= stat.nlink) return true;
      }
    }
    return false;
  };
  return visit(root.handle);
}
