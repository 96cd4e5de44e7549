"use client";
/**
 * Monaco bundled with the app, never fetched from a CDN: the lite `editor.api` entry, its codicon
 * font, the tokenizers of the languages the viewer shows, and the editor worker built by the
 * bundler from `new URL(..., import.meta.url)`. `loader.config({ monaco })` makes
 * @monaco-editor/react use this copy instead of loading one from jsDelivr.
 */
import { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor/editor/editor.api";
import "monaco-editor/features/codicon/register";
import "monaco-editor/languages/definitions/typescript/register";
import "monaco-editor/languages/definitions/javascript/register";
import "monaco-editor/languages/definitions/python/register";
import "monaco-editor/languages/definitions/markdown/register";
import "monaco-editor/languages/definitions/css/register";
import "monaco-editor/languages/definitions/html/register";
import "monaco-editor/languages/definitions/shell/register";
import "monaco-editor/language/json/monaco.contribution";

declare global {
  interface Window {
    MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker };
  }
}

window.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    if (label === "json") {
      return new Worker(new URL("monaco-editor/language/json/json.worker", import.meta.url), { type: "module" });
    }
    return new Worker(new URL("monaco-editor/editor/editor.worker", import.meta.url), { type: "module" });
  },
};

loader.config({ monaco });

export { monaco };
