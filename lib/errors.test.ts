import { describe, expect, it, vi } from "vitest";
import { AppError, errorResponse, isAppError, isErrorCode, isUniqueViolation } from "./errors";

describe("AppError", () => {
  it.each([
    ["bad_request:api", 400],
    ["unauthorized:auth", 401],
    ["forbidden:workspace", 403],
    ["not_found:workspace", 404],
    ["conflict:workspace", 409],
    ["rate_limit:api", 429],
    ["internal:database", 500],
    ["offline:training", 503],
  ] as const)("%s answers HTTP %i", (code, status) => {
    const err = new AppError(code);
    expect([err.code, err.status]).toEqual([code, status]);
  });

  it("toResponse is the JSON body { code, message } with the status", async () => {
    const res = new AppError("not_found:conversation", "No such conversation.").toResponse();
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ code: "not_found:conversation", message: "No such conversation." });
  });

  it("an unknown error becomes a bare 500 that does not leak its message", async () => {
    const res = errorResponse(new Error("password=hunter2 in /etc/secret"));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "internal:api", message: "Something went wrong." });
  });

  it("recognises a unique violation through drizzle's wrapping", () => {
    const driverError = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(isUniqueViolation(new Error("Failed query", { cause: driverError }))).toBe(true);
    expect(isUniqueViolation(new Error("other"))).toBe(false);
  });

  it("recognises an AppError thrown by another copy of the module by its code, where instanceof fails", async () => {
    vi.resetModules();
    const copy = await import("./errors");
    const foreign = new copy.AppError("not_found:conversation");
    expect(foreign instanceof AppError).toBe(false);
    expect(isAppError(foreign)).toBe(true);
    expect(foreign.code).toBe("not_found:conversation");
    expect((await errorResponse(foreign).json()).code).toBe("not_found:conversation");
  });

  it("does not take an object of the same shape, or a driver error's SQLSTATE, for an AppError", () => {
    const lookalike = Object.assign(new Error("x"), { type: "not_found", surface: "conversation", status: 404 });
    const driverError = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect([isAppError(lookalike), isAppError(driverError), isAppError(null), isAppError("not_found:api")]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it.each([
    ["not_found:conversation", true],
    ["conflict:training_run", false],
    ["nope:api", false],
    ["not_found:conversation:extra", false],
    ["23505", false],
  ])("isErrorCode(%s) is %s", (code, expected) => {
    expect(isErrorCode(code)).toBe(expected);
  });
});
