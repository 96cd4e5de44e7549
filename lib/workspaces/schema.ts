/**
 * Input schemas for workspace actions, shared by server actions and forms. A name is a label
 * (the directory is named by id), so any printable text works; a registered directory must be
 * an absolute path.
 */
import path from "node:path";
import { z } from "zod";
import { EXAMPLES } from "./seed";

export const workspaceNameSchema = z
  .string()
  .trim()
  .min(1, "Name is required")
  .max(80, "At most 80 characters")
  .regex(/^[^\p{Cc}]*$/u, "No control characters");

export const workspaceIdSchema = z.uuid("Not a workspace id");

export const createWorkspaceInputSchema = z.object({
  name: workspaceNameSchema,
  example: z.enum(EXAMPLES).nullable(),
});

export const renameWorkspaceInputSchema = z.object({ id: workspaceIdSchema, name: workspaceNameSchema });

export const deleteWorkspaceInputSchema = z.object({ id: workspaceIdSchema });

export const registerWorkspaceInputSchema = z.object({
  name: workspaceNameSchema,
  path: z
    .string()
    .trim()
    .refine((p) => path.isAbsolute(p), "Must be an absolute path"),
});

/** `?path=` of the files route: a relative path as shown in the tree. */
export const filePathQuerySchema = z.object({ path: z.string().min(1, "path is required").max(4096) });
