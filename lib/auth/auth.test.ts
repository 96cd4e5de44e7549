import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db/client";
import { forEachDriver } from "@/lib/db/test-db";
import { setSignupOpen } from "@/lib/db/queries/instance-settings";
import { createUser, getUserByEmail, listUsers } from "@/lib/db/queries/users";
import { buildAuth, requestOrigin, type Auth } from "./auth";
import { createAccount, createAccountInputSchema } from "./create-account";

forEachDriver("accounts", (getDb) => {
  let db: Db;
  let auth: Auth;

  beforeAll(() => {
    db = getDb();
    auth = buildAuth({ db, secret: "test-secret-0123456789-0123456789-abcdef", baseURL: "http://localhost:3000" });
  });
  beforeEach(async () => {
    await db.execute(sql`truncate "user", "instance_setting" cascade`);
  });

  const signUp = (email: string, extra: Record<string, unknown> = {}) =>
    auth.api.signUpEmail({ body: { email, password: "correct-horse-battery", name: email.split("@")[0]!, ...extra } });

  async function roleOf(email: string) {
    return (await getUserByEmail({ db, email }))?.role;
  }

  describe("first-user-is-admin", () => {
    it("the first account to sign up becomes admin and the second is a plain user", async () => {
      await signUp("alice@example.com");
      await signUp("bob@example.com");
      expect({ alice: await roleOf("alice@example.com"), bob: await roleOf("bob@example.com") }).toEqual({
        alice: "admin",
        bob: "user",
      });
    });

    it("no sign-up becomes admin once the instance has users, even if none was ever claimed admin", async () => {
      await createUser({ db, name: "Existing", email: "existing@example.com" });
      await signUp("late@example.com");
      expect(await roleOf("late@example.com")).toBe("user");
    });

    it("two sign-ups racing on an empty instance make exactly one admin", async () => {
      await Promise.all(["a@example.com", "b@example.com", "c@example.com", "d@example.com"].map((e) => signUp(e)));
      const roles = (await listUsers({ db: db })).map((u) => u.role).sort();
      expect(roles).toEqual(["admin", "user", "user", "user"]);
    });

    it("a sign-up that asks for the admin role gets the user role", async () => {
      await signUp("alice@example.com");
      await signUp("mallory@example.com", { role: "admin" });
      expect(await roleOf("mallory@example.com")).toBe("user");
    });
  });

  describe("origin check", () => {
    const post = (origin: string, email: string) =>
      auth.handler(
        new Request("http://127.0.0.1:3100/api/auth/sign-up/email", {
          method: "POST",
          headers: { host: "127.0.0.1:3100", origin, "content-type": "application/json", cookie: "theme=dark" },
          body: JSON.stringify({ email, password: "correct-horse-battery", name: "x" }),
        }),
      );

    it("a sign-up posted from another site is refused, one from the serving host is not", async () => {
      const [foreign, same] = [
        await post("http://evil.example", "e1@example.com"),
        await post("http://127.0.0.1:3100", "e2@example.com"),
      ];
      expect({ foreign: foreign.status, same: same.status }).toEqual({ foreign: 403, same: 200 });
    });
  });

  describe("password policy", () => {
    it("sign-up refuses a common password with a message saying why, and creates no account", async () => {
      await expect(signUp("weak@example.com", { password: "Password1" })).rejects.toMatchObject({
        statusCode: 400,
        body: {
          code: "WEAK_PASSWORD",
          message: "That password is one of the most commonly used ones, which are tried first. Choose another.",
        },
      });
      await expect(signUp("short@example.com", { password: "abc12" })).rejects.toMatchObject({ statusCode: 400 });
      expect(await listUsers({ db })).toEqual([]);
    });

    it("an admin creating an account gets the same rule, as a field message", () => {
      const parsed = createAccountInputSchema.safeParse({
        name: "Bob",
        email: "bob@example.com",
        password: "12345678",
      });
      expect(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path, message: i.message }))).toEqual([
        {
          path: ["password"],
          message: "That password is one of the most commonly used ones, which are tried first. Choose another.",
        },
      ]);
    });
  });

  describe("closing sign-up", () => {
    it("a closed instance refuses sign-up on the server", async () => {
      await signUp("alice@example.com");
      await setSignupOpen({ db: db, open: false });
      await expect(signUp("bob@example.com")).rejects.toMatchObject({ statusCode: 403 });
      expect(await getUserByEmail({ db: db, email: "bob@example.com" })).toBeNull();
    });

    it("an admin still creates accounts while sign-up is closed, and the new user can sign in", async () => {
      await signUp("alice@example.com");
      await setSignupOpen({ db: db, open: false });
      const result = await createAccount(auth, { name: "Bob", email: "bob@example.com", password: "bobs-password" });
      expect(result.status).toBe("created");
      expect(await roleOf("bob@example.com")).toBe("user");
      const signedIn = await auth.api.signInEmail({ body: { email: "bob@example.com", password: "bobs-password" } });
      expect(signedIn.user.email).toBe("bob@example.com");
    });

    it("creating an account makes no session for it", async () => {
      await signUp("alice@example.com");
      const result = await createAccount(auth, { name: "Bob", email: "bob@example.com", password: "bobs-password" });
      if (result.status !== "created") throw new Error(result.status);
      const sessions = await db.execute(sql`select 1 from "session" where user_id = ${result.userId}`);
      expect(Array.isArray(sessions) ? sessions.length : (sessions as { rows: unknown[] }).rows.length).toBe(0);
    });

    it("creating an account with a taken email changes nothing", async () => {
      await signUp("alice@example.com");
      expect(await createAccount(auth, { name: "A", email: "alice@example.com", password: "whatever-123" })).toEqual({
        status: "email_taken",
      });
    });
  });
});

describe("requestOrigin", () => {
  it("trusts the origin of the host the request was sent to, and nothing without a request", () => {
    const request = new Request("http://127.0.0.1:3100/api/auth/sign-up/email", { headers: { host: "ide.lan:3100" } });
    expect({ withRequest: requestOrigin(request), without: requestOrigin(undefined) }).toEqual({
      withRequest: ["http://ide.lan:3100"],
      without: [],
    });
  });
});
