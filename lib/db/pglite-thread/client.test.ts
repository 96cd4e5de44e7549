import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgliteThread } from "./client";

describe("PGlite on its own thread", () => {
  let db: PgliteThread;
  beforeAll(async () => {
    db = await PgliteThread.open("memory");
    await db.exec("create table item (id int primary key, name text not null)");
  }, 60_000);
  afterAll(() => db.close());

  it("answers queries in either row mode, with parameters", async () => {
    await db.query("insert into item values ($1, $2)", [1, "one"]);
    const objects = await db.query("select id, name from item where id = $1", [1]);
    const arrays = await db.query("select id, name from item where id = $1", [1], { rowMode: "array" });
    expect([objects.rows, arrays.rows]).toEqual([[{ id: 1, name: "one" }], [[1, "one"]]]);
  });

  it("keeps the types drizzle asks for as text", async () => {
    const at = "2026-01-02 03:04:05+00";
    const parsed = await db.query("select $1::timestamptz as at", [at]);
    const kept = await db.query("select $1::timestamptz as at", [at], { parsers: { 1184: (v: string) => v } });
    expect(parsed.rows[0]).toEqual({ at: new Date("2026-01-02T03:04:05Z") });
    expect(kept.rows[0]).toEqual({ at });
  });

  it("throws driver errors with their SQLSTATE and constraint", async () => {
    await db.query("insert into item values (2, 'two')");
    const err = await db.query("insert into item values (2, 'again')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: "23505", constraint: "item_pkey" });
  });

  it("rolls a transaction back when its callback throws", async () => {
    const failed = db.transaction(async (tx) => {
      await tx.query("insert into item values (3, 'three')");
      throw new Error("changed my mind");
    });
    await expect(failed).rejects.toThrow("changed my mind");
    expect((await db.query("select * from item where id = 3")).rows).toEqual([]);
  });

  it("makes other queries wait until a transaction commits", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transaction = db.transaction(async (tx) => {
      await tx.query("insert into item values (4, 'four')");
      await held;
      await tx.query("update item set name = 'FOUR' where id = 4");
    });
    const outside = db.query("select name from item where id = 4");
    let answered = false;
    void outside.then(() => {
      answered = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    release();
    await transaction;
    expect((await outside).rows).toEqual([{ name: "FOUR" }]);
  });

  it("fails to open a data directory it cannot create, with the reason", async () => {
    await expect(PgliteThread.open("/proc/no-such-place/db")).rejects.toThrow();
  });
});
