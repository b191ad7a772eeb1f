// The widget in a real browser (Debian's Chromium through playwright-core): a customer's page on an
// allowed origin embeds /widget.js, shows the organisation's colour and follows a REST change of it
// within a second; a page on a foreign origin cannot read the configuration. The preview page
// (/preview/{orgId}?key=pk_…) renders the same header; its screenshot is the README's.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/api-keys.ts';
import { createTestGateway, type TestGateway, until } from './helpers.ts';
import { haveChromium, launchChromium } from './support/chromium.ts';

/** Each browser step's wait on a busy machine; the live update itself must take under a second. */
const patience = 30_000;
const screenshot = new URL('../docs/widget-preview.png', import.meta.url).pathname;

/** A customer's site: one page embedding the gateway's widget script. */
async function customerSite(gatewayUrl: string, orgId: string, key: string) {
  const html = `<!doctype html><html lang="en"><body>
<h1>A customer's page</h1>
<div id="chat-widget"></div>
<script src="${gatewayUrl}/widget.js" data-org="${orgId}" data-key="${key}"></script>
</body></html>`;
  const server: Server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // localhost, not 127.0.0.1: an origin other than the gateway's, as a customer's site is.
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(!haveChromium('the widget browser test'))('the widget in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let widgetKey: string;
  let allowedSite: Awaited<ReturnType<typeof customerSite>>;
  let foreignSite: Awaited<ReturnType<typeof customerSite>>;

  const patchOther = async (patch: Record<string, unknown>) => {
    const answer = await gw.fetch('http://gateway.test/api/orgs/other/config', {
      method: 'PATCH',
      headers: { 'x-api-key': gw.keys.otherAdmin, 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    expect(answer.status).toBe(200);
  };

  beforeAll(async () => {
    gw = await createTestGateway();
    widgetKey = (await createApiKey(gw.store, 'other', 'widget')).key;
    allowedSite = await customerSite(gw.baseUrl, 'other', widgetKey);
    foreignSite = await customerSite(gw.baseUrl, 'other', widgetKey);
    await patchOther({
      origin: [allowedSite.origin],
      color: '#0b6e4f',
      headerWelcomeMessageEn: 'Aqua Support',
      welcomeMessageEn: 'Hello! How can we help?',
    });
    browser = await launchChromium();
  }, patience);

  afterAll(async () => {
    await browser?.close();
    await allowedSite?.close();
    await foreignSite?.close();
    await gw?.close();
  });

  /** A page of the browser whose requests may reach this machine only. */
  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 420, height: 220 } });
    await page.route('**/*', (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === '127.0.0.1' || host === 'localhost' ? route.continue() : route.abort();
    });
    await page.goto(url);
    return page;
  }

  const colorShown = (page: Page, color: string, timeout = patience) =>
    page.waitForSelector(`header[data-color="${color}"]`, { timeout });

  it(
    'shows the colour on an allowed origin, and a REST change of it within a second',
    async () => {
      const page = await openPage(allowedSite.origin);
      try {
        await colorShown(page, '#0b6e4f');
        expect(await page.textContent('header')).toContain('Hello! How can we help?');
        // Once the page's EventSource holds its stream, a change must arrive live.
        await until(() => gw.gateway.streams.held().streams >= 1, patience);
        const began = Date.now();
        await patchOther({ color: '#c2410c' });
        await colorShown(page, '#c2410c', 1_000);
        expect(Date.now() - began).toBeLessThan(1_000);
      } finally {
        await page.close();
      }
    },
    patience * 2,
  );

  it(
    'cannot read the configuration from a page on a foreign origin',
    async () => {
      const page = await openPage(foreignSite.origin);
      try {
        await page.waitForSelector('header[data-error]', { timeout: patience });
        expect(await page.getAttribute('header', 'data-color')).toBeNull();
        const snapshot = `${gw.baseUrl}/widget/other/config?key=${widgetKey}`;
        const read = await page.evaluate(
          (url) =>
            fetch(url).then(
              (answer) => answer.text(),
              () => 'refused',
            ),
          snapshot,
        );
        expect(read).toBe('refused');
      } finally {
        await page.close();
      }
    },
    patience * 2,
  );

  it(
    'serves the preview page, which renders the header live (the README shows its screenshot)',
    async () => {
      const page = await openPage(`${gw.baseUrl}/preview/other?key=${widgetKey}`);
      try {
        await page.waitForSelector('header[data-color]', { timeout: patience });
        await page.screenshot({ path: screenshot });
        const before = await page.getAttribute('header', 'data-color');
        const next = before === '#7c3aed' ? '#0b6e4f' : '#7c3aed';
        await patchOther({ color: next });
        await colorShown(page, next);
      } finally {
        await page.close();
      }
    },
    patience * 2,
  );
});
