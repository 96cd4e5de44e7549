/**
 * Accounts on a fresh instance: the first sign-up becomes admin, later ones are plain users, and
 * an admin can close sign-up (refused by the server, not just hidden) and create accounts.
 * Runs first (see playwright.config.ts): it needs the instance to have no users yet.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, PASSWORD, test, uniqueEmail } from "./fixtures";

test.describe.configure({ mode: "serial" });

const admin = { name: "Ada", email: uniqueEmail("ada"), password: PASSWORD };

test("the first sign-up becomes admin; the second is a plain user for whom the admin page does not exist", async ({
  persona,
}) => {
  const ada = await persona("Ada");
  await ada.page.goto("/sign-up");
  await expect(ada.page.getByTestId("first-account-note")).toBeVisible();
  await ada.auth.signUp(admin);
  await expect(ada.page.getByTestId("nav-admin")).toBeVisible();
  const adminResponse = await ada.admin.goto();
  expect(adminResponse?.status()).toBe(200);
  await expect(ada.page.getByTestId("admin-page")).toBeVisible();
  await expect(ada.admin.roleOf(admin.email)).toHaveText("admin");

  const bob = await persona("Bob");
  await bob.page.goto("/sign-up");
  await expect(bob.page.getByTestId("first-account-note")).toHaveCount(0);
  await bob.auth.signUp({ name: "Bob", email: bob.email, password: PASSWORD });
  await expect(bob.page.getByTestId("nav-admin")).toHaveCount(0);
  const bobResponse = await bob.admin.goto();
  expect(bobResponse?.status()).toBe(404);
  await expect(bob.page.getByTestId("not-found")).toBeVisible();
  await expect(bob.page.getByTestId("admin-page")).toHaveCount(0);

  await ada.page.reload();
  await expect(ada.admin.roleOf(bob.email)).toHaveText("user");
});

test("with sign-up closed the server refuses it, and an admin creates an account without becoming that user", async ({
  persona,
}) => {
  const ada = await persona("Ada");
  await ada.auth.signIn(admin);
  await ada.admin.goto();
  await ada.admin.setSignup(false);
  try {
    const carol = await persona("Carol");
    await carol.page.goto("/sign-up");
    await expect(carol.page.getByTestId("signup-closed")).toBeVisible();
    // Not only hidden: the endpoint itself refuses.
    const origin = new URL(carol.page.url()).origin;
    const refused = await carol.page.request.post("/api/auth/sign-up/email", {
      data: { name: "Carol", email: carol.email, password: PASSWORD },
      headers: { origin },
    });
    expect(refused.status()).toBe(403);

    const dave = { name: "Dave", email: uniqueEmail("dave"), password: PASSWORD };
    await ada.admin.createAccount(dave);
    await expect(ada.page.getByTestId("current-user")).toContainText(admin.email);
    await expect(ada.admin.roleOf(dave.email)).toHaveText("user");
    await expect(ada.page.locator(`[data-testid="user-row"][data-email="${carol.email}"]`)).toHaveCount(0);

    const davePersona = await persona("Dave");
    await davePersona.auth.signIn(dave);
    await expect(davePersona.page.getByTestId("nav-admin")).toHaveCount(0);
  } finally {
    // Later projects sign up their own personas.
    await ada.admin.goto();
    await ada.admin.setSignup(true);
  }
});

test("an admin registers an existing directory as a workspace, deleting it keeps the files, and the data directory is refused", async ({
  persona,
}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-e2e-registered-"));
  fs.writeFileSync(path.join(dir, "main.py"), "print('registered')\n");
  const ada = await persona("Ada");
  await ada.auth.signIn(admin);

  await ada.admin.goto();
  await ada.page.getByTestId("register-name").fill("data dir");
  await ada.page.getByTestId("register-path").fill(process.env.E2E_DATA_DIR!);
  await ada.page.getByTestId("register-submit").click();
  await expect(ada.page.getByTestId("register-error")).toContainText("data directory");

  await ada.page.getByTestId("register-name").fill("registered");
  await ada.page.getByTestId("register-path").fill(dir);
  await ada.page.getByTestId("register-submit").click();
  await expect(ada.page.getByTestId("workspace-title")).toHaveText("registered");
  expect(await ada.workspace.treePaths()).toEqual(["main.py"]);
  await ada.workspace.open("main.py");
  expect(await ada.workspace.viewerText()).toContain("print('registered')");

  await ada.workspaces.goto();
  await ada.workspaces.delete("registered");
  await expect(ada.workspaces.row("registered")).toHaveCount(0);
  expect(fs.readFileSync(path.join(dir, "main.py"), "utf8")).toBe("print('registered')\n");
  fs.rmSync(dir, { recursive: true, force: true });
});
