/**
 * Authorisation, persona by persona: Bob cannot reach Alice's workspace by URL, by server action
 * or by route handler; signed-out requests get 401. Each refusal has a positive control (Alice's
 * own request succeeds), so a test cannot pass because the feature is simply broken.
 */
import { expect, PASSWORD, test, type Persona } from "./fixtures";

async function aliceWithWorkspace(persona: (name: string) => Promise<Persona>) {
  const alice = await persona("Alice");
  await alice.auth.signUp({ name: "Alice", email: alice.email, password: PASSWORD });
  const id = await alice.workspaces.create("alice project");
  return { alice, id };
}

async function signedUp(persona: (name: string) => Promise<Persona>, name: string) {
  const p = await persona(name);
  await p.auth.signUp({ name, email: p.email, password: PASSWORD });
  return p;
}

test("Bob gets a not-found page for Alice's workspace URL", async ({ persona }) => {
  const { alice, id } = await aliceWithWorkspace(persona);
  const bob = await signedUp(persona, "Bob");

  const response = await bob.workspace.goto(id);
  expect(response?.status()).toBe(404);
  await expect(bob.page.getByTestId("not-found")).toBeVisible();
  await expect(bob.page.getByTestId("file-tree")).toHaveCount(0);

  const own = await alice.workspace.goto(id);
  expect(own?.status()).toBe(200);
  await expect(alice.page.getByTestId("file-tree")).toBeVisible();
});

test("Bob's requests to Alice's files and tree routes get 404, signed-out requests 401", async ({
  persona,
  playwright,
  baseURL,
}) => {
  const { alice, id } = await aliceWithWorkspace(persona);
  const bob = await signedUp(persona, "Bob");
  const filesUrl = `/api/workspaces/${id}/files?path=calculator.py`;
  const treeUrl = `/api/workspaces/${id}/tree`;

  const own = await alice.page.request.get(filesUrl);
  expect(own.status()).toBe(200);
  expect(await own.json()).toMatchObject({ kind: "text", path: "calculator.py" });
  expect((await (await alice.page.request.get(treeUrl)).json()).entries).toHaveLength(3);

  for (const url of [filesUrl, treeUrl]) {
    const res = await bob.page.request.get(url);
    expect(res.status()).toBe(404);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ code: "not_found:workspace", message: "Workspace not found." });
    expect(body).not.toContain("def divide");
  }

  const anonymous = await playwright.request.newContext({ baseURL });
  try {
    for (const url of [filesUrl, treeUrl]) {
      const res = await anonymous.get(url);
      expect(res.status()).toBe(401);
      expect((await res.json()).code).toBe("unauthorized:auth");
    }
  } finally {
    await anonymous.dispose();
  }

  // Even the owner cannot read past the workspace's edge.
  const outside = await alice.page.request.get(
    `/api/workspaces/${id}/files?path=${encodeURIComponent("../../../etc/passwd")}`,
  );
  expect(outside.status()).toBe(400);
  expect(await outside.text()).not.toContain("root:");
});

test("Bob's rename and delete actions on Alice's workspace id are refused and her workspace is unchanged", async ({
  persona,
}) => {
  const { alice, id } = await aliceWithWorkspace(persona);
  const bob = await signedUp(persona, "Bob");
  await bob.workspaces.create("bob project");
  await bob.workspaces.goto();

  // Bob's own form, with Alice's id put in its hidden field: the server action receives her id.
  await bob.workspaces.renameWithTamperedId("bob project", id, "taken over");
  await expect(bob.workspaces.row("bob project").getByTestId("workspace-action-error")).toHaveText(
    "Workspace not found.",
  );

  await bob.workspaces.goto();
  await bob.workspaces.deleteWithTamperedId("bob project", id);
  await expect(bob.workspaces.row("bob project").getByTestId("workspace-action-error")).toHaveText(
    "Workspace not found.",
  );

  // Bob's own workspace was not touched either.
  await bob.workspaces.goto();
  await expect(bob.workspaces.row("bob project")).toHaveCount(1);

  await alice.workspaces.goto();
  await expect(alice.workspaces.row("alice project")).toHaveCount(1);
  await expect(alice.workspaces.row("taken over")).toHaveCount(0);
  await alice.workspace.goto(id);
  expect(await alice.workspace.treePaths()).toEqual(["calculator.py", "README.md", "test_calculator.py"]);
});

test("a server action or auth request replayed without this site's Origin is refused before it runs", async ({
  persona,
  baseURL,
}) => {
  const { alice } = await aliceWithWorkspace(persona);
  await alice.workspaces.goto();

  // Alice's own rename, as her browser sends it: a POST carrying the action id and her cookies.
  const sent = alice.page.waitForRequest((r) => r.method() === "POST" && r.headers()["next-action"] !== undefined);
  await alice.workspaces.rename("alice project", "renamed by replay");
  const action = await sent;
  await expect(alice.workspaces.row("renamed by replay")).toHaveCount(1);
  await alice.workspaces.rename("renamed by replay", "alice project");
  await expect(alice.workspaces.row("alice project")).toHaveCount(1);

  // Replayed without what ties it to the page: the browser's Origin and Sec-Fetch-Site (and the
  // transport headers the request context sets itself).
  const dropped = new Set(["origin", "sec-fetch-site", "cookie", "host", "content-length", "connection"]);
  const headers = Object.fromEntries(
    Object.entries(await action.allHeaders()).filter(([k]) => !dropped.has(k) && !k.startsWith(":")),
  );
  const replay = (extra: Record<string, string>) =>
    alice.page.request.post(action.url(), { headers: { ...headers, ...extra }, data: action.postDataBuffer() ?? "" });

  const foreign: Array<Record<string, string>> = [
    {},
    { origin: "http://evil.example" },
    { origin: "http://evil.example", "sec-fetch-site": "cross-site" },
  ];
  for (const extra of foreign) {
    const refused = await replay(extra);
    expect(refused.status()).toBe(403);
    expect((await refused.json()).code).toBe("forbidden:api");
  }
  await alice.workspaces.goto();
  await expect(alice.workspaces.row("alice project")).toHaveCount(1);

  // Positive control: the same bytes from this site's origin do rename.
  expect((await replay({ origin: new URL(baseURL!).origin })).status()).toBe(200);
  await alice.workspaces.goto();
  await expect(alice.workspaces.row("renamed by replay")).toHaveCount(1);

  const signOut = await alice.page.request.post("/api/auth/sign-out", { data: {} });
  expect({ status: signOut.status(), code: (await signOut.json()).code }).toEqual({
    status: 403,
    code: "forbidden:api",
  });
});
