import { expect, it } from "vitest";
import { forEachDriver, makeUser } from "../test-db";
import { getInstanceSetting, isSignupOpen, setInstanceSetting, setSignupOpen } from "./instance-settings";
import { getUserSettings, saveUserSettings } from "./user-settings";
import { countUsers, createUser, getUserByEmail, getUserById, listUsers, setUserRole } from "./users";

forEachDriver("users and settings", (db) => {
  it("sign-up is open until an admin closes it", async () => {
    expect(await isSignupOpen({ db: db() })).toBe(true);
    await setSignupOpen({ db: db(), open: false });
    expect(await isSignupOpen({ db: db() })).toBe(false);
    await setSignupOpen({ db: db(), open: true });
    expect(await isSignupOpen({ db: db() })).toBe(true);
  });

  it("an instance setting reads its fallback until set, then the stored JSON", async () => {
    expect(await getInstanceSetting({ db: db(), key: "banner", fallback: null })).toBeNull();
    await setInstanceSetting({ db: db(), key: "banner", value: { text: "hi", level: 2 } });
    expect(await getInstanceSetting({ db: db(), key: "banner", fallback: null })).toEqual({
      text: "hi",
      level: 2,
    });
  });

  it("user settings start empty and are replaced as a whole, per user", async () => {
    const a = await makeUser(db());
    const b = await makeUser(db());
    expect(await getUserSettings({ db: db(), userId: a.id })).toEqual({});
    await saveUserSettings({ db: db(), userId: a.id, settings: { temperature: 0.2, maxTokens: 512 } });
    await saveUserSettings({ db: db(), userId: a.id, settings: { temperature: 0.3 } });
    expect(await getUserSettings({ db: db(), userId: a.id })).toEqual({ temperature: 0.3 });
    expect(await getUserSettings({ db: db(), userId: b.id })).toEqual({});
  });

  it("users are found by id and by email (case-insensitively), counted, listed and promoted", async () => {
    const before = await countUsers({ db: db() });
    const u = await createUser({ db: db(), name: "Ada", email: "Ada@Example.test" });
    expect(u.role).toBe("user");
    expect(await countUsers({ db: db() })).toBe(before + 1);
    expect(await getUserById({ db: db(), id: u.id })).toEqual(u);
    expect(await getUserByEmail({ db: db(), email: "ada@example.TEST" })).toEqual(u);
    expect(await getUserById({ db: db(), id: "nobody" })).toBeNull();
    expect((await setUserRole({ db: db(), id: u.id, role: "admin" }))?.role).toBe("admin");
    expect((await listUsers({ db: db() })).at(-1)).toMatchObject({ id: u.id, role: "admin" });
  });
});
