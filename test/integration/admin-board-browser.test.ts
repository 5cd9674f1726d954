import puppeteer, { type Browser } from 'puppeteer-core';
import { startHarness, type Harness } from './support/harness';
import { fallDetection } from './support/fixtures';

/**
 * Bull Board from a real browser: Debian's Chromium, headless, driven by puppeteer-core (no browser download).
 * An operator signs in with an admin token, the board loads and shows the queue through its own API calls
 * (which carry the session cookie, not a token), and no patient data is on the page.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The page's `document`, in the functions puppeteer runs in the browser (the project compiles without the DOM lib).
declare const document: { body: { innerText: string }; cookie: string };

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness({ workers: 0 });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The sandbox needs user namespaces, which CI containers running as root do not give.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

it('signs in with an admin token, shows the queue with redacted jobs, and keeps the cookie away from scripts', async () => {
  const { eventId } = await h.producer.enqueue(fallDetection('browser'));
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${(error as Error).message}`));
  page.on('response', (response) => {
    if (response.url().startsWith(h.api.url) && response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });

  // Not signed in: the board sends the browser to the sign-in page.
  await page.goto(`${h.api.url}/admin/queues`, { waitUntil: 'domcontentloaded' });
  expect(new URL(page.url()).pathname).toBe('/admin/login');

  await page.type('#token', await h.token('ops@novee', 'admin:queues'));
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#sign-in')]);
  expect(new URL(page.url()).pathname).toBe('/admin/queues');

  // The board's UI fetched its data with the cookie: the queue is listed.
  await page.waitForFunction(() => document.body.innerText.includes('webhook-deliveries'), { timeout: 30_000 });

  const [cookie] = (await browser.cookies()).filter((c) => c.name === 'novee_admin');
  expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/admin' });
  expect(await page.evaluate(() => document.cookie)).not.toContain('novee_admin');

  // The queue's page lists the job, without the patient's name or e-mail.
  await page.goto(`${h.api.url}/admin/queues/queue/webhook-deliveries?status=latest`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction((id: string) => document.body.innerText.includes(id), { timeout: 30_000 }, eventId);
  const pageText = await page.evaluate(() => document.body.innerText);
  expect(pageText).not.toMatch(/ada@example\.com|Lovelace/);
  const fromBrowser = await page.evaluate(async () => {
    const response = await fetch('/admin/queues/api/queues?activeQueue=webhook-deliveries&status=latest&page=1&jobsPerPage=10');
    return { status: response.status, text: await response.text() };
  });
  expect(fromBrowser.status).toBe(200);
  expect(fromBrowser.text).toContain(eventId);
  expect(fromBrowser.text).not.toMatch(/ada@example\.com|Lovelace/);

  expect(problems).toEqual([]);
  await page.close();
});
