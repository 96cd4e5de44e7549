import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tarArchive, tarHeader } from "./tar";

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tar-test-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const text = (s: string) => new TextEncoder().encode(s);

describe("tar writer", () => {
  it("GNU tar lists and extracts the archive with the same names, sizes and bytes", () => {
    const binary = Uint8Array.from({ length: 1300 }, (_, i) => (i * 31) % 256);
    const longName = `${"deep/".repeat(30)}adapter_model.safetensors`;
    const files = [
      { name: "adapter/adapter_config.json", data: text('{"r": 8}\n'), mtime: new Date("2026-03-04T05:06:07Z") },
      { name: "adapter/adapter_model.safetensors", data: binary },
      { name: "adapter/empty.txt", data: new Uint8Array(0) },
      { name: longName, data: text("long") },
    ];
    const dir = tmp();
    const archive = path.join(dir, "out.tar");
    fs.writeFileSync(archive, tarArchive(files));

    const listing = execFileSync("tar", ["-tvf", archive], { encoding: "utf8" }).trim().split("\n");
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual(files.map((f) => f.name));
    expect(listing.map((l) => Number(l.split(/\s+/)[2]))).toEqual([9, 1300, 0, 4]);

    const out = path.join(dir, "x");
    fs.mkdirSync(out);
    execFileSync("tar", ["-xf", archive, "-C", out]);
    for (const f of files) expect(new Uint8Array(fs.readFileSync(path.join(out, f.name)))).toEqual(f.data);
    expect(fs.statSync(path.join(out, files[0]!.name)).mtime.toISOString()).toBe("2026-03-04T05:06:07.000Z");
  });

  it("every member starts on a 512-byte boundary and the archive ends with two zero blocks", () => {
    const bytes = tarArchive([{ name: "a", data: text("x".repeat(513)) }]);
    expect(bytes.length).toBe(512 + 1024 + 1024);
    expect(bytes.slice(-1024).every((b) => b === 0)).toBe(true);
  });

  it("the header checksum is the byte sum with the checksum field read as spaces", () => {
    const h = tarHeader({ name: "f.txt", size: 10 });
    const stored = parseInt(new TextDecoder().decode(h.slice(148, 154)), 8);
    const copy = h.slice();
    copy.fill(0x20, 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
  });

  it("refuses a name that cannot fit ustar's fields", () => {
    expect(() => tarHeader({ name: "x".repeat(101), size: 0 })).toThrow(/too long/);
  });
});
