/**
 * The app's auth, for pages, server actions and route handlers. The better-auth instance is built
 * once per process on top of the process's database (kept on globalThis, like getDb, because
 * `next dev` re-evaluates modules) and forgotten if building it fails.
 *   requireUser()     pages and actions: the signed-in user, or a redirect to /sign-in
 *   requireAdmin()    pages and actions: an admin, else notFound() (the page does not exist for them)
 *   requireApiUser()  route handlers: the signed-in user, or AppError 401
 */
import "server-only";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { getDb } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { type Auth, type SessionUser, buildAuth } from "./auth";
import { authSecret } from "./secret";

type AuthGlobal = typeof globalThis & { __continualcodeAuth?: Promise<Auth> };

export function getAuth(): Promise<Auth> {
  const g = globalThis as AuthGlobal;
  if (!g.__continualcodeAuth) {
    const building = (async () => {
      const db = await getDb();
      return buildAuth({ db, secret: await authSecret(db), baseURL: process.env.BETTER_AUTH_URL || undefined });
    })();
    g.__continualcodeAuth = building;
    building.catch(() => {
      if (g.__continualcodeAuth === building) g.__continualcodeAuth = undefined;
    });
  }
  return g.__continualcodeAuth;
}

/** The signed-in user of the current request, or null; looked up once per request (layout and page share it). */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const auth = await getAuth();
  const session = await auth.api.getSession({ headers: await headers() });
  return session?.user ?? null;
});

export async function requireUser(): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) redirect("/sign-in");
  return user;
}

export async function requireAdmin(): Promise<SessionUser> {
  const user = await requireUser();
  if (user.role !== "admin") notFound();
  return user;
}

export async function requireApiUser(): Promise<SessionUser> {
  const user = await getSessionUser();
  if (!user) throw new AppError("unauthorized:auth");
  return user;
}

export function isAdmin(user: Pick<SessionUser, "role">): boolean {
  return user.role === "admin";
}

export type { SessionUser };
