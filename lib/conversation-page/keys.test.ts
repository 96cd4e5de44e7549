import { describe, expect, it } from "vitest";
import { decisionKeyFor, isTypingTarget, type TargetLike } from "./keys";

const body: TargetLike = { tagName: "BODY", isContentEditable: false, closest: () => null };
const button: TargetLike = { tagName: "BUTTON", isContentEditable: false, closest: () => null };
const input: TargetLike = { tagName: "INPUT", isContentEditable: false, closest: () => null };
const textarea: TargetLike = { tagName: "textarea", isContentEditable: false, closest: () => null };
const editable: TargetLike = { tagName: "DIV", isContentEditable: true, closest: () => null };
/** Monaco's hidden textarea is a TEXTAREA too; a div inside the editor is caught by `closest`. */
const insideMonaco: TargetLike = {
  tagName: "DIV",
  isContentEditable: false,
  closest: (s: string) => (s.includes(".monaco-editor") ? {} : null),
};

describe("decision keys", () => {
  it("y, n and e on the page map to approve, deny and edit", () => {
    expect([
      decisionKeyFor({ key: "y", target: body }),
      decisionKeyFor({ key: "n", target: body }),
      decisionKeyFor({ key: "e", target: button }),
    ]).toEqual(["approve", "deny", "edit"]);
  });

  it("never fires while typing in an input, a textarea, a contenteditable or a Monaco editor", () => {
    for (const target of [input, textarea, editable, insideMonaco]) {
      for (const key of ["y", "n", "e"]) expect(decisionKeyFor({ key, target })).toBeNull();
    }
  });

  it("ignores modified, repeated and composing key presses and other keys", () => {
    expect(decisionKeyFor({ key: "n", ctrlKey: true, target: body })).toBeNull();
    expect(decisionKeyFor({ key: "y", metaKey: true, target: body })).toBeNull();
    expect(decisionKeyFor({ key: "e", altKey: true, target: body })).toBeNull();
    expect(decisionKeyFor({ key: "y", repeat: true, target: body })).toBeNull();
    expect(decisionKeyFor({ key: "y", isComposing: true, target: body })).toBeNull();
    expect(decisionKeyFor({ key: "Y", target: body })).toBeNull();
    expect(decisionKeyFor({ key: "x", target: body })).toBeNull();
  });

  it("a missing target is not typing", () => {
    expect(isTypingTarget(null)).toBe(false);
    expect(decisionKeyFor({ key: "y", target: null })).toBe("approve");
  });
});
