import { expect } from 'chai';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { DOCUMENT_NAMES } from '../../gateway/openapi/documents.ts';
import { openApiRoutes } from '../../gateway/openapi/routes.ts';
import { committedDocuments } from '../helpers/openapi.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT_MS = 15_000;

/**
 * /docs/ in a real browser: Swagger UI from the gateway's own node_modules shows every
 * document under the dashboard's Content-Security-Policy, which refuses anything inline.
 */
describe('API documents viewer (/docs/)', function () {
  this.timeout(60_000);
  let server: Server;
  let url: string;
  let browser: Browser;

  before(async () => {
    // the routes need no runtime: the documents are the committed files
    const app = express();
    app.use(openApiRoutes());
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  it('shows each document with all its operations and the signature rules, and the browser refuses nothing under the CSP', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request: ${request.url()}`));
    // a violation of the policy is an event on the document, whether or not it is also logged
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => console.error('CSP ' + event.violatedDirective + ' ' + event.sourceFile + ':' + event.lineNumber))`);
    // every request stays on the gateway: no CDN, no font or validator service
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) problems.push(`left the gateway: ${request.url()}`);
    });

    await page.goto(`${url}/docs/`);
    const documents = committedDocuments();
    for (const name of DOCUMENT_NAMES) {
      const shown = documents[name];
      const title = (shown['info'] as { title: string }).title;
      await page.selectOption('#document', name);
      await page.locator('.info .title', { hasText: title.slice(0, 30) }).waitFor({ timeout: WAIT_MS });
      const operations = Object.values(shown.paths).reduce((count, item) => count + Object.keys(item).length, 0);
      await page.waitForFunction(`document.querySelectorAll('.opblock').length === ${operations}`, undefined, { timeout: WAIT_MS });
      expect(new URL(page.url()).searchParams.get('document')).to.equal(name);
    }

    // the security scheme explains the signature
    await page.selectOption('#document', 'province-to-gateway');
    await page.locator('.info .title', { hasText: 'Province to gateway' }).waitFor({ timeout: WAIT_MS });
    await page.locator('.auth-wrapper .authorize').click();
    const dialog = page.locator('.modal-ux');
    await dialog.waitFor({ timeout: WAIT_MS });
    expect(await dialog.innerText()).to.include('signing string').and.include('RFC 8785');
    expect(problems).to.deep.equal([]);
  });
});
