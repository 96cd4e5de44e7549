/**
 * The conversation page without a model that answers sensibly: a conversation starts from its
 * workspace page, the page lays out files | conversation | training, "/c" asks before clearing,
 * "/metrics" and "/q" work, a task too long for the prompt budget is refused unstored, the
 * decision keys never act while typing, the agent's reply streams in
 * as a draft that its stored message replaces, and Bob cannot reach
 * Alice's conversation by URL, SSE route, data route or server action (each refusal next to a
 * positive control, so a broken feature cannot pass as a refusal).
 */
import { parseAgentEvents } from "@/lib/conversation-page/sse";
import { expect, PASSWORD, test, type Persona } from "./fixtures";
import { SessionPage } from "./pages/session-page";

async function signedUpWithConversation(persona: (name: string) => Promise<Persona>, name: string) {
  const p = await persona(name);
  await p.auth.signUp({ name, email: p.email, password: PASSWORD });
  const workspaceId = await p.workspaces.create(`${name.toLowerCase()} project`);
  const session = new SessionPage(p.page);
  const conversationId = await session.startFromWorkspace();
  return { p, session, workspaceId, conversationId };
}

test("a conversation starts from the workspace page and the conversation page shows files, composer and training", async ({
  persona,
}) => {
  const { p, session, workspaceId, conversationId } = await signedUpWithConversation(persona, "Alice");
  await expect(session.treeEntry("calculator.py")).toBeVisible();
  await expect(session.composer).toBeVisible();
  await expect(p.page.getByTestId("training-panel")).toBeVisible();
  await expect(p.page.getByTestId("training-status")).toHaveAttribute("data-status", "none");
  await expect(p.page.getByTestId("kl-chart")).toBeVisible();
  await expect(p.page.getByTestId("conversation-state")).toHaveText("idle");

  // The viewer shows a file picked in the tree.
  await session.treeEntry("calculator.py").click();
  await expect(p.page.getByTestId("viewer-path")).toHaveText("calculator.py");
  await expect(p.page.locator('[data-testid="monaco-viewer"] .view-lines')).toContainText("def divide");

  await p.workspace.goto(workspaceId);
  await expect(
    p.page.locator(`[data-testid="conversation-row"][data-conversation-id="${conversationId}"]`),
  ).toBeVisible();
});

test("/c asks for confirmation: cancel keeps the conversation, confirm starts a new episode", async ({ persona }) => {
  const { p, session } = await signedUpWithConversation(persona, "Carol");
  await session.send("/c");
  await expect(p.page.getByTestId("clear-dialog")).toBeVisible();
  await p.page.getByTestId("clear-cancel").click();
  await expect(p.page.getByTestId("clear-dialog")).toHaveCount(0);
  await expect(p.page.getByTestId("episode-divider")).toHaveCount(0);

  await session.send("/c");
  await p.page.getByTestId("clear-confirm").click();
  await expect(p.page.getByTestId("clear-dialog")).toHaveCount(0);
  await expect(p.page.getByTestId("episode-divider")).toHaveCount(1);
});

test("a page follows the conversation live: /c confirmed in another tab shows up over the stream", async ({
  persona,
}) => {
  const { p, session, conversationId } = await signedUpWithConversation(persona, "Erin");
  await expect(p.page.getByTestId("episode-divider")).toHaveCount(0);
  // A second tab of the same user clears the conversation; the first tab does nothing itself.
  const other = await p.context.newPage();
  const otherSession = new SessionPage(other);
  await otherSession.goto(conversationId);
  await otherSession.send("/c");
  await other.getByTestId("clear-confirm").click();
  await expect(other.getByTestId("episode-divider")).toHaveCount(1);
  await expect(p.page.getByTestId("episode-divider")).toHaveCount(1);
  await expect(session.composer).toBeVisible();
});

test("a task longer than the prompt budget is refused with the numbers, nothing is stored and the text stays in the composer", async ({
  persona,
}) => {
  const { p, session, conversationId } = await signedUpWithConversation(persona, "Tess");
  const task = Array.from({ length: 50_000 }, () => "x").join(" ");
  await session.send(task);
  await expect(p.page.getByTestId("composer-error")).toHaveText(
    /^Too long to send: the prompt would need [\d,]+ tokens, and the model's prompt budget is [\d,]+\. Nothing was sent: shorten the message\.$/,
  );
  const [needed, budget] = (await p.page.getByTestId("composer-error").innerText())
    .match(/[\d,]+/g)!
    .map((n) => Number(n.replaceAll(",", "")));
  expect(needed).toBeGreaterThan(budget!);
  await expect(session.composer).toHaveValue(task);
  await expect(p.page.getByTestId("user-message")).toHaveCount(0);
  await expect(p.page.getByTestId("conversation-state")).toHaveText("idle");
  const stored = (await (await p.page.request.get(`/api/conversations/${conversationId}`)).json()) as {
    view: { messages: { role: string }[] };
  };
  expect(stored.view.messages.map((m) => m.role)).toEqual(["system"]);
});

test("keys never fire while typing; /metrics opens the metrics panel and /q returns to the workspace", async ({
  persona,
}) => {
  const { p, session, workspaceId } = await signedUpWithConversation(persona, "Dave");
  await session.composer.click();
  await session.composer.pressSequentially("yes, no, edit");
  await expect(session.composer).toHaveValue("yes, no, edit");
  await expect(p.page.getByTestId("correction-box")).toHaveCount(0);
  await expect(p.page.getByTestId("args-editor")).toHaveCount(0);

  await session.send("/metrics");
  await expect(p.page.getByTestId("metrics-panel")).toContainText("No training metrics yet.");
  await p.page.getByTestId("metrics-close").click();
  await expect(p.page.getByTestId("metrics-panel")).toHaveCount(0);

  await session.send("/q");
  await p.page.waitForURL(new RegExp(`/workspaces/${workspaceId}$`));
});

test("the agent's reply streams over SSE as deltas that join to its final text, drafted on the page until the stored reply takes its place", async ({
  persona,
}) => {
  const { p, session, conversationId } = await signedUpWithConversation(persona, "Frank");
  // Greedy decoding, so the reply (and whether it is one message) is the same run to run.
  await p.page.goto("/settings");
  await p.page.getByTestId("setting-input-temperature").fill("0");
  await p.page.getByTestId("settings-save").click();
  await expect(p.page.getByTestId("settings-result")).toHaveText("Saved.");
  await session.goto(conversationId);
  await expect(session.composer).toBeVisible();
  // Every draft the page renders, as the DOM changes: a poll could miss one that lasts a moment.
  await p.page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { drafts: string[] }).drafts = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="streaming-text"]')?.textContent;
      if (text != null && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // The conversation's stream from its start, read until the reply's final text.
  const streamed = p.page.evaluate(async (url) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 90_000);
    const reader = (await fetch(url, { signal: controller.signal })).body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!/event: tokens\ndata: [^\n]*"final":true/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    clearTimeout(timer);
    controller.abort();
    return text;
  }, `/api/conversations/${conversationId}/events?after=0`);
  await session.send("Create stats.py with a function `total_apples` that returns the sum of a and b.");

  const tokens = parseAgentEvents(await streamed)
    .filter((e) => e.type === "tokens")
    .map((e) => e.payload as { text: string; final: boolean });
  const final = tokens.at(-1)!;
  expect(final.final).toBe(true);
  expect(final.text).not.toBe("");
  expect(tokens.slice(0, -1).every((t) => !t.final)).toBe(true);
  expect(
    tokens
      .slice(0, -1)
      .map((t) => t.text)
      .join(""),
  ).toBe(final.text);

  // The draft is shown, then the stored reply alone: the draft goes once the page holds its message.
  const drafts = () => p.page.evaluate(() => (window as unknown as { drafts: string[] }).drafts);
  await expect.poll(async () => (await drafts()).length, { timeout: 90_000 }).toBeGreaterThan(0);
  await expect(p.page.getByTestId("assistant-message")).toHaveCount(1, { timeout: 90_000 });
  await expect(p.page.getByTestId("streaming-message")).toHaveCount(0);
  await expect(p.page.getByTestId("conversation-state")).toHaveText(/^(proposed|idle|failed)$/);
  // An answer that ended the task says so: an idle conversation never looks stalled.
  if ((await p.page.getByTestId("conversation-state").innerText()) === "idle") {
    await expect(p.page.getByTestId("agent-answered")).toContainText(
      "The agent answered; the task is done — reply to continue.",
    );
  } else await expect(p.page.getByTestId("agent-answered")).toHaveCount(0);
  for (const draft of await drafts()) expect(final.text.startsWith(draft), draft).toBe(true);
});

test("Bob gets 404 for Alice's conversation page, its SSE and data routes and his actions on her ids; signed out is 401", async ({
  persona,
  playwright,
  baseURL,
}) => {
  const alice = await signedUpWithConversation(persona, "Alice");
  const bob = await signedUpWithConversation(persona, "Bob");
  const id = alice.conversationId;

  expect((await bob.session.goto(id))?.status()).toBe(404);
  await expect(bob.p.page.getByTestId("session-page")).toHaveCount(0);
  expect((await alice.session.goto(id))?.status()).toBe(200);

  // The SSE route: Alice's own stream opens (and replays her conversation's first events).
  const own = await alice.p.page.evaluate(async (url) => {
    const controller = new AbortController();
    const res = await fetch(url, { signal: controller.signal });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    return { status: res.status, type: res.headers.get("content-type"), first };
  }, `/api/conversations/${id}/events?after=0`);
  expect(own.status).toBe(200);
  expect(own.type).toContain("text/event-stream");
  expect(own.first).toContain("retry:");
  for (const url of [`/api/conversations/${id}/events`, `/api/conversations/${id}`]) {
    const res = await bob.p.page.request.get(url);
    expect(res.status()).toBe(404);
    expect(await res.json()).toEqual({ code: "not_found:conversation", message: "Conversation not found." });
  }
  expect((await alice.p.page.request.get(`/api/conversations/${id}`)).status()).toBe(200);
  const anonymous = await playwright.request.newContext({ baseURL });
  try {
    for (const url of [`/api/conversations/${id}/events`, `/api/conversations/${id}`])
      expect((await anonymous.get(url)).status()).toBe(401);
  } finally {
    await anonymous.dispose();
  }

  // Actions: Bob's own requests with Alice's ids put in (what replaying an action would send).
  await bob.p.page.route("**/*", async (route) => {
    const req = route.request();
    const body = req.postData();
    if (req.method() === "POST" && req.headers()["next-action"] && body) {
      await route.continue({
        postData: body.replaceAll(bob.conversationId, id).replaceAll(bob.workspaceId, alice.workspaceId),
      });
    } else await route.continue();
  });
  await bob.session.goto(bob.conversationId);
  await bob.session.send("take over");
  await expect(bob.p.page.getByTestId("composer-error")).toHaveText("Not found: it may have been removed.");
  await bob.p.workspace.goto(bob.workspaceId);
  await bob.p.page.getByTestId("new-conversation").click();
  await expect(bob.p.page.getByTestId("conversation-error")).toHaveText("Workspace not found.");
  await bob.p.page.unroute("**/*");

  // Nothing reached Alice's conversation or workspace.
  await alice.session.goto(id);
  await expect(alice.p.page.getByTestId("user-message")).toHaveCount(0);
  await alice.p.workspace.goto(alice.workspaceId);
  await expect(alice.p.page.getByTestId("conversation-row")).toHaveCount(1);
});
