/**
 * The browser's side of auth: sign up, sign in, sign out against /api/auth. The server's
 * additional `role` field is declared so `useSession()` types it.
 */
"use client";
import { inferAdditionalFields } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({
  plugins: [inferAdditionalFields({ user: { role: { type: "string", input: false } } })],
});

export const { signIn, signUp, signOut, useSession } = authClient;
