// The JavaScript a first visit downloads, gzipped: the entry script of the
// built index.html and every module it preloads. Printed after each build;
// exits 1 above the budget (300 KB gzip, docs/performance.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../../src/meshhook/ui_dist/', import.meta.url).pathname;
const BUDGET = 300 * 1024;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
let raw = 0;
let gzip = 0;
for (const file of scripts) {
  const bytes = readFileSync(join(dist, file));
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`first load: ${scripts.length} script(s), ${kb(raw)} raw, ${kb(gzip)} gzip (budget ${kb(BUDGET)})`);
if (gzip > BUDGET) {
  console.error('over the first-load budget');
  process.exit(1);
}
