/**
 * The Monaco language id for a file, from its name. Only the languages the viewer registers are
 * named here; anything else is shown as plain text.
 */
export type ViewerLanguage =
  | "typescript"
  | "javascript"
  | "python"
  | "json"
  | "markdown"
  | "css"
  | "html"
  | "shell"
  | "plaintext";

const BY_EXTENSION: Record<string, ViewerLanguage> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  py: "python",
  pyi: "python",
  json: "json",
  jsonc: "json",
  md: "markdown",
  markdown: "markdown",
  css: "css",
  html: "html",
  htm: "html",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
};

export function languageForPath(filePath: string): ViewerLanguage {
  const name = filePath.split("/").pop() ?? "";
  if (name === "Dockerfile" || name === "Makefile") return "plaintext";
  if (name === ".bashrc" || name === ".profile" || name === ".zshrc") return "shell";
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "plaintext";
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? "plaintext";
}
