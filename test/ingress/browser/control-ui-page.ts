/**
 * The tenant owner's Control UI in headless Chromium (Debian's), for the pairing harness: a page
 * kept open (as the owner keeps the tab open while the operator approves the browser), with the
 * gateway's WebSocket frames recorded, and the steps of "Settings → Channels → DM access requests →
 * Approve" of the pinned release's UI (its own labels: dist/control-ui of openclaw 2026.9.6).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.OCTW_CHROMIUM ?? '/usr/bin/chromium';
/** Chromium resolves every `<tenant>.localhost` to loopback, where HAProxy listens. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--host-resolver-rules=MAP *.localhost 127.0.0.1'];

export interface OwnerPage {
  readonly page: Page;
  /** Every text frame the gateway sent this page, over all its WebSockets. */
  readonly frames: string[];
  /** Whether a connect was answered hello-ok since frame index `from`. */
  connectedSince(from: number): boolean;
  /** Whether the gateway held the browser back for pairing (NOT_PAIRED / "pairing required"). */
  pairingRequired(): boolean;
  /** The page's visible text (for a failure message). */
  text(): Promise<string>;
  close(): Promise<void>;
}

/** Opens `url` (the Control UI with `#token=`) in a fresh profile and records the gateway's frames. */
export async function openOwnerPage(browser: Browser, url: string): Promise<OwnerPage> {
  const context: BrowserContext = await browser.newContext();
  const page = await context.newPage();
  const frames: string[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
  });
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  return {
    page,
    frames,
    connectedSince: (from) => frames.slice(from).some((f) => f.includes('"hello-ok"')),
    pairingRequired: () => frames.some((f) => /NOT_PAIRED|pairing required/i.test(f)),
    text: () => page.locator('body').innerText({ timeout: 5000 }).catch(() => ''),
    close: () => context.close(),
  };
}

/**
 * In the connected UI: the Channels page, the DM access request of `senderId` on Telegram, Approve,
 * and the dialog's Approve. Resolves with what the page showed on the way (for the report).
 */
export async function approveDmRequestInUi(owner: OwnerPage, origin: string, senderId: string, timeoutMs: number): Promise<string> {
  const { page } = owner;
  await page.goto(`${origin}/channels`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  const rowApprove = page.getByRole('button', { name: new RegExp(`^Approve ${senderId} for `) });
  const until = Date.now() + timeoutMs;
  // The requests of an account may sit behind its "Review requests" button.
  while (!(await rowApprove.isVisible().catch(() => false))) {
    if (Date.now() > until) throw new Error(`no "Approve ${senderId}" button on the Channels page: ${(await owner.text()).replace(/\s+/g, ' ').slice(0, 600)}`);
    const review = page.getByRole('button', { name: /^Review requests$/ }).first();
    if (await review.isVisible().catch(() => false)) await review.click().catch(() => undefined);
    await page.waitForTimeout(1000);
  }
  await rowApprove.click();
  const confirm = page.locator('.channels-pairing-dialog__actions button.primary');
  await confirm.waitFor({ state: 'visible', timeout: 30_000 });
  const dialog = (await page.locator('.channels-pairing-dialog').innerText().catch(() => '')).replace(/\s+/g, ' ');
  await confirm.click();
  // The dialog closes once the gateway answered the approval.
  await confirm.waitFor({ state: 'detached', timeout: 60_000 }).catch(() => undefined);
  return dialog;
}
