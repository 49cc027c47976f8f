// Opens reports in a real browser: headless Chromium (Debian's chromium,
// installed by scripts/setup-system.sh) driven by playwright-core, which
// adds the headless flag itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildReport } from '../../src/report/index.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeRun } from './fixtures.js';

const CHROMIUM = process.env['D2R_CHROMIUM'] ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-extensions',
  '--no-first-run',
];

interface Opened {
  page: Page;
  /** Requests for anything but the page itself and data: URIs. */
  requests: string[];
  /** Console errors and warnings (a Content-Security-Policy refusal logs one). */
  console: string[];
}

async function open(browser: Browser, html: string): Promise<Opened> {
  const url = pathToFileURL(html).href;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const console: string[] = [];
  // Refuse, and remember, any request other than the page itself.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url || u.startsWith('data:')) return route.continue();
    requests.push(u);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    const u = r.url();
    if (u !== url && !u.startsWith('data:') && !requests.includes(u)) requests.push(u);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.push(m.text());
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.ok(response === null || response.ok(), `cannot open ${url}`);
  return { page, requests, console };
}

interface ChartBox {
  chart: string | null;
  width: number;
  height: number;
  paths: number;
  texts: number;
}

const charts = (page: Page): Promise<ChartBox[]> =>
  page.$$eval('figure.chart', (figures) =>
    figures.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        chart: f.getAttribute('data-chart'),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        paths: svg?.querySelectorAll('path').length ?? 0,
        texts: svg?.querySelectorAll('text').length ?? 0,
      };
    }),
  );

const images = (page: Page): Promise<{ complete: boolean; naturalWidth: number; width: number }[]> =>
  page.$$eval('.gallery img', (imgs) =>
    (imgs as HTMLImageElement[]).map((i) => ({
      complete: i.complete,
      naturalWidth: i.naturalWidth,
      width: i.getBoundingClientRect().width,
    })),
  );

test('reports open offline in headless Chromium: charts and gallery render; a screenshot', { timeout: 60_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(
      `Chromium not found at ${CHROMIUM}: the report's browser test needs it. Install it with scripts/setup-system.sh (Debian package chromium), or set D2R_CHROMIUM to a Chromium binary.`,
    );
  }
  const parent = tempDir('d2r-report-browser-');
  const alpha = makeRun({ name: 'alpha', guidance: true, epochs: 5, examples: 4 }, parent);
  const beta = makeRun({ name: 'beta', epochs: 4, offset: 0.1, channels: 3, size: 32, examples: 2 }, parent);
  const single = await buildReport([alpha]);
  const compared = await buildReport([alpha, beta], { out: join(parent, 'compare') });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  try {
    const one = await open(browser, single.html);
    assert.equal(await one.page.title(), 'd2r report: alpha');
    const boxes = await charts(one.page);
    assert.deepEqual(
      boxes.map((b) => b.chart),
      ['curves', 'eps-sweep'],
    );
    for (const b of boxes) {
      assert.ok(b.width > 300 && b.height > 150, `chart ${b.chart} is ${b.width}x${b.height}`);
      assert.ok(b.paths > 10 && b.texts > 10, `chart ${b.chart} has ${b.paths} paths and ${b.texts} texts`);
    }
    const gallery = await images(one.page);
    assert.equal(gallery.length, 4 * 3);
    for (const im of gallery) assert.deepEqual(im, { complete: true, naturalWidth: 112, width: 96 });
    assert.equal(await one.page.locator('#attacks tbody tr').count(), 5, 'clean and four attacks');

    const screenshot = join(parent, 'report-screenshot.png');
    await one.page.screenshot({ path: screenshot, fullPage: true });
    const png = PNG.sync.read(readFileSync(screenshot));
    assert.equal(png.width, 1280);
    assert.ok(png.height > 1500, `a full page is taller than ${png.height}`);
    const colours = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4 * 7) colours.add(png.data.readUInt32BE(i));
    assert.ok(colours.size > 200, `the screenshot has only ${colours.size} colours`);
    t.diagnostic(`screenshot: ${screenshot}`);

    const two = await open(browser, compared.html);
    assert.deepEqual(
      (await charts(two.page)).map((b) => b.chart),
      ['curves', 'eps-sweep'],
    );
    const both = await images(two.page);
    assert.equal(both.length, (4 + 2) * 3);
    assert.ok(both.every((im) => im.complete && im.naturalWidth > 0));

    for (const o of [one, two]) {
      assert.deepEqual(o.requests, [], 'the page requests nothing');
      assert.deepEqual(o.console, [], 'no console errors (a blocked load would log one)');
    }
  } finally {
    await browser.close();
  }
});
