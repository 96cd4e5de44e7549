/**
 * The better-auth instance: email + password accounts stored through the drizzle adapter in our
 * own user/session/account/verification tables. Two rules of the instance live here:
 *   - the first account to sign up becomes admin (claimed atomically, see first-admin.ts);
 *   - while an admin has closed sign-up, the sign-up endpoint refuses every request (403),
 *     whatever the UI shows. Admins still create accounts (create-account.ts), which bypasses it.
 * Every new password passes password-policy.ts, and the rate limit on sign-in and sign-up keys on
 * the address the server process stamped on the request (client-address.ts), never on a header the
 * client chose.
 * No admin plugin: it brings impersonation, and an admin must never act as (or read) another user.
 */
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { nextCookies } from "better-auth/next-js";
import type { Db } from "@/lib/db/client";
import * as schema from "@/lib/db/schema";
import { isSignupOpen } from "@/lib/db/queries/instance-settings";
import { log } from "@/lib/log";
import { CLIENT_ADDRESS_HEADER } from "./client-address";
import { claimFirstAdmin } from "./first-admin";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, passwordProblem, passwordProblemMessage } from "./password-policy";

const authLog = log.child({ component: "auth" });

export const SIGNUP_CLOSED_MESSAGE = "Sign-up is closed on this instance. Ask an admin for an account.";

/**
 * A self-hosted instance is reached by whatever host name its users type (localhost, an IP, a
 * LAN name), so unless BETTER_AUTH_URL pins one, the trusted origin is the request's own host:
 * a form posted from the page being served passes, a cross-site post does not.
 */
export function requestOrigin(request: Request | undefined): string[] {
  if (!request) return [];
  const host = request.headers.get("host");
  if (!host) return [];
  return [`${new URL(request.url).protocol}//${host}`];
}

/** The endpoints that set a password, and the body field that carries the new one. */
const NEW_PASSWORD_FIELD: Record<string, "password" | "newPassword"> = {
  "/sign-up/email": "password",
  "/change-password": "newPassword",
  "/reset-password": "newPassword",
};

export type BuildAuthOptions = {
  db: Db;
  secret: string;
  baseURL?: string;
  /** Rate-limit the auth endpoints; better-auth's default is on in production only. */
  rateLimit?: boolean;
};

export function buildAuth({ db, secret, baseURL, rateLimit }: BuildAuthOptions) {
  return betterAuth({
    secret,
    baseURL,
    trustedOrigins: (request) => requestOrigin(request),
    // better-auth's own messages go out as our JSON log lines.
    logger: {
      log: (level, message, ...args) => authLog[level](message, args.length > 0 ? { details: args } : undefined),
    },
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: {
        user: schema.user,
        session: schema.session,
        account: schema.account,
        verification: schema.verification,
      },
    }),
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      autoSignIn: true,
    },
    ...(rateLimit === undefined ? {} : { rateLimit: { enabled: rateLimit } }),
    user: {
      additionalFields: {
        role: { type: "string", input: false, required: false, defaultValue: "user" },
      },
    },
    advanced: {
      // Ids come from better-auth; our tables store them as text.
      database: { generateId: () => crypto.randomUUID() },
      // better-auth skips the origin (CSRF) check when NODE_ENV is "test"; we want it everywhere.
      disableOriginCheck: false,
      // Only the stamp the server process put on the request; X-Forwarded-For is the client's to forge.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
    },
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path === "/sign-up/email" && !(await isSignupOpen({ db }))) {
          throw new APIError("FORBIDDEN", { message: SIGNUP_CLOSED_MESSAGE });
        }
        const field = Object.hasOwn(NEW_PASSWORD_FIELD, ctx.path) ? NEW_PASSWORD_FIELD[ctx.path] : undefined;
        const password: unknown = field ? (ctx.body as Record<string, unknown> | undefined)?.[field] : undefined;
        const problem = typeof password === "string" ? passwordProblem(password) : null;
        if (problem)
          throw new APIError("BAD_REQUEST", { code: "WEAK_PASSWORD", message: passwordProblemMessage(problem) });
      }),
    },
    databaseHooks: {
      user: {
        create: {
          before: async (newUser) => {
            if (await claimFirstAdmin(db, newUser.email)) return { data: { ...newUser, role: "admin" } };
            return { data: { ...newUser, role: "user" } };
          },
        },
      },
    },
    // nextCookies must be the last plugin: it copies Set-Cookie into server actions' responses.
    plugins: [nextCookies()],
  });
}

export type Auth = ReturnType<typeof buildAuth>;
export type AuthSession = Auth["$Infer"]["Session"];
export type SessionUser = AuthSession["user"];
