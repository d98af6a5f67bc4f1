// Renders client-web/icons/icon.svg into the PNG icons the web manifest lists
// (installability wants 192 and 512 px PNGs; the maskable one keeps the
// artwork inside the 80% safe zone). Run after changing the SVG:
//   node tools/make-icons.mjs
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../helpers/browser.js';

const icons = fileURLToPath(new URL('../../../client-web/icons/', import.meta.url));
const svg = await readFile(`${icons}icon.svg`, 'utf8');
const browser = await launchBrowser();
for (const [file, size, inset] of [['icon-192.png', 192, 0], ['icon-512.png', 512, 0], ['icon-maskable-512.png', 512, 0.12]]) {
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  const pad = Math.round(size * inset);
  await page.setContent(
    `<body style="margin:0;background:#0d1117"><div style="padding:${pad}px;width:${size}px;height:${size}px;box-sizing:border-box">${svg.replace('<svg ', `<svg width="${size - 2 * pad}" height="${size - 2 * pad}" `)}</div></body>`,
  );
  await page.screenshot({ path: `${icons}${file}`, omitBackground: inset === 0 });
  await page.close();
}
await browser.close();
