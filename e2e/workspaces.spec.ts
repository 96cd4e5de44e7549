/**
 * A user's own workspaces: created from the shipped example, browsed in the file tree, a file
 * shown in Monaco, renamed (name only) and deleted.
 */
import { expect, PASSWORD, test } from "./fixtures";

test("a workspace made from the example shows its files, and clicking one shows its content in Monaco", async ({
  persona,
  baseURL,
}) => {
  const ann = await persona("Ann");
  // Everything the IDE loads (Monaco, its worker, fonts) comes from the app itself, never a CDN.
  const foreign: string[] = [];
  const workerUrls: string[] = [];
  ann.page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol.startsWith("http") && url.host !== new URL(baseURL!).host) foreign.push(r.url());
  });
  ann.page.on("worker", (w) => workerUrls.push(w.url()));
  await ann.auth.signUp({ name: "Ann", email: ann.email, password: PASSWORD });
  await ann.workspaces.create("calculator demo");

  expect(await ann.workspace.treePaths()).toEqual(["calculator.py", "README.md", "test_calculator.py"]);

  await ann.workspace.open("calculator.py");
  await expect(ann.page.getByTestId("monaco-viewer")).toHaveAttribute("data-language", "python");
  const source = await ann.workspace.viewerText();
  expect(source).toContain("def divide(a, b):");
  expect(source).toContain("return a // b");

  await ann.workspace.open("README.md");
  expect(await ann.workspace.viewerText()).toContain("# calculator");

  // Monaco starts its worker lazily; ask for one the way Monaco does, and see where it loads from.
  await ann.page.evaluate(() => {
    const env = (window as unknown as { MonacoEnvironment: { getWorker(id: string, label: string): Worker } })
      .MonacoEnvironment;
    env.getWorker("probe", "editorWorkerService");
  });
  await expect.poll(() => workerUrls.length).toBeGreaterThan(0);
  expect(workerUrls.every((u) => u.startsWith(`${baseURL}/_next/static/`))).toBe(true);
  expect(foreign).toEqual([]);
});

test("renaming changes only the name; deleting removes the workspace", async ({ persona }) => {
  const ben = await persona("Ben");
  await ben.auth.signUp({ name: "Ben", email: ben.email, password: PASSWORD });
  const id = await ben.workspaces.create("first name");

  await ben.workspaces.goto();
  await ben.workspaces.rename("first name", "second name");
  await expect(ben.workspaces.row("second name")).toHaveCount(1);
  await expect(ben.workspaces.row("first name")).toHaveCount(0);
  await ben.workspace.goto(id);
  await expect(ben.page.getByTestId("workspace-title")).toHaveText("second name");
  expect(await ben.workspace.treePaths()).toEqual(["calculator.py", "README.md", "test_calculator.py"]);

  await ben.workspaces.goto();
  await ben.workspaces.delete("second name");
  await expect(ben.page.getByTestId("no-workspaces")).toBeVisible();
  const gone = await ben.workspace.goto(id);
  expect(gone?.status()).toBe(404);
});
