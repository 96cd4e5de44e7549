import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "@/lib/db/client";
import { createUser } from "@/lib/db/queries/users";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import { createManagedWorkspace, deleteWorkspaceWithFiles, registerExistingWorkspace } from "./manage";

let handle: DbHandle;
let root: string;
let dataRoot: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  handle = await createDb({ dataDir: "memory" });
  root = await fs.mkdtemp(path.join(os.tmpdir(), "ws-manage-"));
  dataRoot = path.join(root, "data");
  await fs.mkdir(dataRoot);
  alice = (await createUser({ db: handle.db, name: "Alice", email: "alice@example.com" })).id;
  bob = (await createUser({ db: handle.db, name: "Bob", email: "bob@example.com" })).id;
});
afterAll(async () => {
  await handle?.close();
  await fs.rm(root, { recursive: true, force: true });
});

const exists = (p: string) =>
  fs.stat(p).then(
    () => true,
    () => false,
  );

describe("managed workspaces", () => {
  it("a workspace made from the example holds the example's files in its own directory", async () => {
    const ws = await createManagedWorkspace({
      db: handle.db,
      ownerId: alice,
      name: "calc",
      example: "calculator",
      root: path.join(root, "workspaces"),
    });
    expect(path.dirname(ws.path)).toBe(path.join(root, "workspaces"));
    expect((await fs.readdir(ws.path)).sort()).toEqual(["README.md", "calculator.py", "test_calculator.py"]);
    expect(ws.managed).toBe(true);
  });

  it("an empty workspace is an empty directory", async () => {
    const ws = await createManagedWorkspace({
      db: handle.db,
      ownerId: alice,
      name: "empty",
      example: null,
      root: path.join(root, "workspaces"),
    });
    expect(await fs.readdir(ws.path)).toEqual([]);
  });

  it("a duplicate name is refused and leaves no directory behind", async () => {
    const before = await fs.readdir(path.join(root, "workspaces"));
    await expect(
      createManagedWorkspace({
        db: handle.db,
        ownerId: alice,
        name: "calc",
        example: "calculator",
        root: path.join(root, "workspaces"),
      }),
    ).rejects.toMatchObject({ code: "conflict:workspace" });
    expect(await fs.readdir(path.join(root, "workspaces"))).toEqual(before);
  });

  it("someone else cannot delete a workspace, and its files stay", async () => {
    const ws = await createManagedWorkspace({
      db: handle.db,
      ownerId: alice,
      name: "keep",
      example: "calculator",
      root: path.join(root, "workspaces"),
    });
    expect(
      await deleteWorkspaceWithFiles({ db: handle.db, id: ws.id, ownerId: bob, root: path.join(root, "workspaces") }),
    ).toBeNull();
    expect(await exists(ws.path)).toBe(true);
    expect(await getWorkspaceForOwner({ db: handle.db, id: ws.id, ownerId: alice })).toMatchObject({
      id: ws.id,
      name: "keep",
    });
  });

  it("deleting a managed workspace removes its directory", async () => {
    const ws = await createManagedWorkspace({
      db: handle.db,
      ownerId: alice,
      name: "gone",
      example: "calculator",
      root: path.join(root, "workspaces"),
    });
    expect(
      await deleteWorkspaceWithFiles({ db: handle.db, id: ws.id, ownerId: alice, root: path.join(root, "workspaces") }),
    ).toMatchObject({ id: ws.id });
    expect(await exists(ws.path)).toBe(false);
  });
});

describe("registered workspaces", () => {
  it("a registered directory survives deleting its workspace", async () => {
    const dir = path.join(root, "existing-project");
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, "main.py"), "print(1)\n");
    const result = await registerExistingWorkspace({ db: handle.db, ownerId: alice, name: "existing", dir, dataRoot });
    if (result.status !== "ok") throw new Error(result.error);
    expect(result.workspace.managed).toBe(false);
    await deleteWorkspaceWithFiles({
      db: handle.db,
      id: result.workspace.id,
      ownerId: alice,
      root: path.join(root, "workspaces"),
    });
    expect(await fs.readFile(path.join(dir, "main.py"), "utf8")).toBe("print(1)\n");
  });

  it.each([
    ["relative/path", "The path must be absolute."],
    ["/no/such/dir/anywhere", "No such directory: /no/such/dir/anywhere"],
    ["/", "The file system root cannot be a workspace."],
  ])("refuses %s", async (dir, error) => {
    expect(await registerExistingWorkspace({ db: handle.db, ownerId: alice, name: `r-${dir}`, dir, dataRoot })).toEqual(
      { status: "invalid_data", error },
    );
  });

  it("refuses another user's managed workspace, the data directory and any folder holding it", async () => {
    const bobs = await createManagedWorkspace({
      db: handle.db,
      ownerId: bob,
      name: "bob private",
      example: "calculator",
      root: path.join(dataRoot, "workspaces"),
    });
    for (const dir of [bobs.path, dataRoot, path.join(dataRoot, "workspaces"), root]) {
      expect(
        await registerExistingWorkspace({ db: handle.db, ownerId: alice, name: `try ${dir}`, dir, dataRoot }),
      ).toEqual({
        status: "invalid_data",
        error: "The data directory (and anything in or around it) cannot be a workspace.",
      });
    }
  });

  it("refuses a file that is not a directory", async () => {
    const file = path.join(root, "a-file.txt");
    await fs.writeFile(file, "x");
    expect(
      await registerExistingWorkspace({ db: handle.db, ownerId: alice, name: "file", dir: file, dataRoot }),
    ).toEqual({
      status: "invalid_data",
      error: `Not a directory: ${file}`,
    });
  });
});
