/**
 * The README's screenshots, taken from the current code: trains the tiny preset with the
 * book's settings on The Verdict in the page (but a tenfold learning rate, so a few epochs
 * show something), then generates greedily, then shows the Device view. Prints the training
 * summary (tokens/s) of the page on that device.
 *
 *   node packages/web/scripts/screenshots.mjs [--device cpu|webgpu|auto] [--epochs 4] [--lr 0.004] [--out docs]
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, serveWebApp } from './browser.mjs';

const { values } = parseArgs({
  options: {
    device: { type: 'string', default: 'cpu' },
    epochs: { type: 'string', default: '4' },
    lr: { type: 'string', default: '0.004' },
    out: { type: 'string', default: 'docs' },
  },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

const served = await serveWebApp(mkdtempSync(join(tmpdir(), 'mini-gpt-web-site-')));
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  const idle = (timeout) => page.waitForFunction(() => document.body.dataset.task === 'idle', null, { timeout });
  const failIfError = async () => {
    if (await page.isVisible('#error'))
      throw new Error(`the page shows an error: ${await page.textContent('#error-text')}`);
  };
  await page.goto(`${served.origin}/?device=${values.device}`);
  await page.waitForFunction(() => document.getElementById('device-status').textContent.startsWith('Device:'), null, {
    timeout: 120_000,
  });
  await failIfError();
  console.log(await page.textContent('#device-status'));

  await page.fill('#epochs', values.epochs);
  await page.fill('#lr', values.lr);
  await page.click('#start');
  await page.waitForSelector('#stop-train:enabled');
  await idle(3_600_000);
  await failIfError();
  console.log(await page.textContent('#train-summary'));
  await page.screenshot({ path: join(out, 'web-train.png') });

  await page.click('#tab-generate');
  await page.click('#generate');
  await idle(600_000);
  await failIfError();
  console.log(await page.textContent('#output'));
  await page.screenshot({ path: join(out, 'web-generate.png') });

  await page.click('#tab-device');
  await page.screenshot({ path: join(out, 'web-device.png') });
  console.log(
    `screenshots: ${['web-train.png', 'web-generate.png', 'web-device.png'].map((f) => join(out, f)).join(', ')}`,
  );
} finally {
  await browser.close();
  await served.server.close();
}
