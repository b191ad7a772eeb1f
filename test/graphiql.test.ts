// GraphiQL offline: Debian's Chromium (driven by playwright-core) loads the page with every request
// that is not to the gateway blocked, sets the key header, runs a query and sees the answer.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway } from './helpers.ts';
import { haveChromium, launchChromium } from './support/chromium.ts';

/** Each step's wait: the 9 MB page took 20 s to show its editors on a machine at load 18 (2 cores). */
const patience = 60_000;

describe.skipIf(!haveChromium('the GraphiQL browser test'))('GraphiQL in a browser, offline', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  /** Requests the browser tried to send anywhere but the gateway: each one aborted. */
  const blocked: string[] = [];

  beforeAll(async () => {
    gw = await createTestGateway();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      const local = url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1';
      if (local) return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
  }, patience);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** Replaces the text of a GraphiQL editor, as pasting would (no auto-closed brackets). */
  async function fillEditor(selector: string, text: string) {
    const editor = page.locator(selector).first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }

  it(
    'loads from the gateway alone, takes the key header, runs a query and shows the answer',
    async () => {
      const started = Date.now();
      const lap = (what: string) => console.log(`${what}: ${Date.now() - started} ms`);
      await page.goto(`${gw.baseUrl}/graphql`, { waitUntil: 'load', timeout: patience });
      await page.locator('.graphiql-query-editor').first().waitFor({ timeout: patience });
      lap('editors ready');
      expect(await page.title()).toBe('Org config gateway');

      await page
        .getByRole('button', { name: /headers/i })
        .first()
        .click();
      await fillEditor(
        '.graphiql-editor-tool .graphiql-editor:visible',
        JSON.stringify({ 'x-api-key': gw.keys.admin }),
      );
      await fillEditor(
        '.graphiql-query-editor',
        '{ orgConfig(orgId: "demo") { orgId version branding { name } } }',
      );

      const answered = page.waitForResponse(
        (response) => response.url().endsWith('/graphql') && response.request().method() === 'POST',
        { timeout: patience },
      );
      await page.locator('.graphiql-execute-button').click();
      const response = await answered;
      lap('answered');
      expect(response.request().headers()['x-api-key']).toBe(gw.keys.admin);
      const body = (await response.json()) as { data?: { orgConfig: { branding: { name: string } } } };
      const name = body.data?.orgConfig.branding.name;
      expect(name).toEqual(expect.any(String));
      // The answer as GraphiQL shows it, in its result pane (the editor draws spaces as U+00A0).
      const shown = async () =>
        ((await page.locator('.graphiql-response').textContent()) ?? '').replace(/\u00a0/g, ' ');
      await expect.poll(shown, { timeout: patience }).toContain(`"name": ${JSON.stringify(name)}`);
      lap('shown');
      expect(blocked).toEqual([]);
    },
    3 * patience,
  );
});
