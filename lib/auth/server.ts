/**
 * The app's auth, for pages, server actions and route handlers. The better-auth instance is the
 * process runtime's (lib/runtime.ts), built once at start-up over the runtime's database.
 *   requireUser()     pages and actions: the signed-in user, or a redirect to /sign-in
 *   requireAdmin()    pages and actions: an admin, else notFound() (the page does not exist for them)
 *   requireApiUser()  route handlers: the signed-in user, or AppError 401
 */
import "server-only";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { AppError } from "@/lib/errors";
import { getRuntime } from "@/lib/runtime";
import type { Auth, SessionUser } from "./auth";

export async function getAuth(): Promise<Auth> {
  return (await getRuntime()).auth;
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
