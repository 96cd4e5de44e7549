import { expect, type Locator, type Page } from "@playwright/test";

/** The tools that change a file: their proposals show a Monaco diff of the file. */
export const FILE_WRITING_TOOLS = /^(write|edit|edit_lines)$/;

/**
 * The one tool call awaiting a decision on the conversation page: its diff, Approve/Deny/Edit by mouse
 * or by key, the correction box, and the diff's right side as an editor.
 */
export class ProposalCard {
  constructor(private readonly page: Page) {}

  /** The card of the call awaiting a decision (there is at most one). */
  get root(): Locator {
    return this.page.locator('[data-testid="tool-card"][data-status="proposed"]');
  }

  get diff(): Locator {
    return this.root.getByTestId("diff-editor");
  }

  /** The card of a failed call that asks for its correction (the tool's hint prefilled). */
  get failure(): Locator {
    return this.page.getByTestId("failure-card");
  }

  /**
   * Waits until the agent stops for the person at a point not in `seen` ("proposal:<id>" or
   * "failure:<id>": a call approved and then failed stops twice), or, with `orAnswer`, ends its
   * turn with an answer (the conversation idle) or a reply that could not be read ("unreadable:<message
   * id>"). Returns the point's key, its call's tool, and whether it is a proposal to decide, a failed
   * call to correct, an answer or an unreadable reply.
   */
  async waitForNext(
    seen: readonly string[],
    timeout: number,
    orAnswer = false,
  ): Promise<{ key: string; id: string; tool: string; kind: "proposal" | "failure" | "answer" | "unreadable" }> {
    const not = (kind: string, attribute = "data-tool-call-id") =>
      seen
        .filter((k) => k.startsWith(`${kind}:`))
        .map((k) => `:not([${attribute}="${k.slice(kind.length + 1)}"])`)
        .join("");
    const cards = `[data-testid="tool-card"][data-status="proposed"]${not("proposal")}, [data-testid="failure-card"]${not("failure")}`;
    const unreadable = `[data-testid="reply-unreadable"]${not("unreadable", "data-message-id")}`;
    const fresh = this.page.locator(
      orAnswer ? `${cards}, ${unreadable}, [data-testid="session-page"][data-state="idle"]` : cards,
    );
    await expect(fresh.first()).toBeVisible({ timeout });
    const card = this.page.locator(cards);
    if ((await card.count()) === 0) {
      const reply = this.page.locator(unreadable);
      if ((await reply.count()) > 0) {
        const id = (await reply.getAttribute("data-message-id"))!;
        return { key: `unreadable:${id}`, id, tool: "", kind: "unreadable" };
      }
      return { key: `answer:${seen.length}`, id: "", tool: "", kind: "answer" };
    }
    const kind = (await card.getAttribute("data-testid")) === "failure-card" ? "failure" : "proposal";
    const id = (await card.getAttribute("data-tool-call-id"))!;
    return { key: `${kind}:${id}`, id, tool: (await card.getAttribute("data-tool"))!, kind };
  }

  /** Whether the awaiting file-writing proposal shows a diff (not "No diff: …", e.g. an edit of a missing file). */
  async showsDiff(): Promise<boolean> {
    await expect(this.root.getByTestId("diff-editor").or(this.root.getByTestId("preview-error"))).toBeVisible();
    return (await this.root.getByTestId("preview-error").count()) === 0;
  }

  /** Checks the awaiting proposal is a file-writing call whose diff has rendered. */
  async expectFileWriteDiff() {
    await expect(this.root).toHaveAttribute("data-tool", FILE_WRITING_TOOLS);
    await expect(this.modifiedLines).toBeVisible();
  }

  /** The rendered lines of the right side (a deleted-lines view zone also has class view-lines). */
  get modifiedLines(): Locator {
    return this.diff.locator(".editor.modified .view-lines:not(.line-delete)");
  }

  card(toolCallId: string): Locator {
    return this.page.locator(`[data-testid="tool-card"][data-tool-call-id="${toolCallId}"]`);
  }

  /** Deny by mouse: opens the correction box, types the correction and sends it. */
  async denyWith(correction: string) {
    await this.root.getByTestId("deny-button").click();
    await this.page.getByTestId("correction-input").fill(correction);
    await this.page.getByTestId("correction-submit").click();
  }

  /** Edit by mouse: the right side becomes writable; its whole text is replaced by `text`. */
  async editDiffTo(text: string) {
    await this.root.getByTestId("edit-button").click();
    await expect(this.diff).toHaveAttribute("data-editable", "true");
    await this.modifiedLines.click();
    await this.replaceFocusedEditorText(text);
  }

  /**
   * Replaces the text of the focused Monaco editor by typing. The text must hold no brackets,
   * quotes or indentation, which Monaco would complete or indent as it is typed.
   */
  async replaceFocusedEditorText(text: string) {
    await this.page.keyboard.press("ControlOrMeta+A");
    await this.page.keyboard.press("Delete");
    await this.page.keyboard.type(text);
  }

  async approve() {
    await this.root.getByTestId("approve-button").click();
  }
}
