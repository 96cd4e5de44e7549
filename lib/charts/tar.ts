/**
 * A minimal POSIX ustar writer for downloads of several files (a PEFT adapter directory): each
 * file is a 512-byte header (name, octal size and mtime, checksum) followed by its bytes padded to
 * a 512-byte boundary, and the archive ends with two zero blocks. Regular files only; names longer
 * than 100 bytes are split into ustar's prefix field at a slash.
 */

const BLOCK = 512;
const encoder = new TextEncoder();

export type TarFile = {
  /** Path inside the archive, with forward slashes. */
  name: string;
  data: Uint8Array;
  /** Modification time; default the epoch, so equal inputs give equal archives. */
  mtime?: Date;
  mode?: number;
};

function splitName(name: string): { prefix: string; name: string } {
  const bytes = encoder.encode(name).length;
  if (bytes <= 100) return { prefix: "", name };
  for (let i = name.lastIndexOf("/"); i > 0; i = name.lastIndexOf("/", i - 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(rest).length <= 100) return { prefix, name: rest };
  }
  throw new Error(`tar: name too long for ustar: ${name}`);
}

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > length) throw new Error(`tar: field too long: ${value}`);
  block.set(bytes, offset);
}

/** `value` in octal, zero-padded to length-1 digits and NUL-terminated. */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  const digits = Math.floor(value).toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  writeString(block, offset, length, `${digits.padStart(length - 1, "0")}\0`);
}

export function tarHeader(file: Omit<TarFile, "data"> & { size: number }): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitName(file.name);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, file.mode ?? 0o644);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, file.size);
  writeOctal(block, 136, 12, Math.floor((file.mtime?.getTime() ?? 0) / 1000));
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  block[156] = "0".charCodeAt(0); // regular file
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 345, 155, prefix);
  const sum = block.reduce((a, b) => a + b, 0);
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The archive's chunks in order: header, data, padding per file, then the end-of-archive blocks. */
export function* tarChunks(files: Iterable<TarFile>): Generator<Uint8Array> {
  for (const file of files) {
    yield tarHeader({ ...file, size: file.data.length });
    yield file.data;
    const pad = padding(file.data.length);
    if (pad.length > 0) yield pad;
  }
  yield new Uint8Array(BLOCK * 2);
}

/** The whole archive as one buffer. */
export function tarArchive(files: Iterable<TarFile>): Uint8Array {
  const chunks = [...tarChunks(files)];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
