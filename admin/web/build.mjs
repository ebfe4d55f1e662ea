// Builds the admin bundle into ../static, where the Go server embeds it.
// CI rebuilds and fails on any difference from the committed files, so the
// output must depend only on the sources and the lockfile: no sourcemaps,
// no timestamps, no absolute paths.
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'static');

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: {
    admin: 'src/admin.js',
    editor: 'src/editor.js',
    chart: 'src/chart.js',
    'admin-css': 'src/admin.css',
  },
  // admin.css and admin.js would both be "admin.*"; the rename below keeps
  // the entry names apart while the files keep the names the pages use.
  entryNames: '[name]',
  outdir,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  sourcemap: false,
  legalComments: 'eof',
  platform: 'browser',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  metafile: true,
  write: false,
});

// Write the files ourselves, renaming admin-css.css to admin.css.
mkdirSync(outdir, { recursive: true });
const written = [];
for (const file of result.outputFiles) {
  const name = file.path.slice(outdir.length + 1).replace(/^admin-css\.css$/, 'admin.css');
  if (file.text.includes(here)) throw new Error(`${name} contains the absolute path ${here}`);
  writeFileSync(join(outdir, name), file.contents);
  written.push(name);
}

let jsTotal = 0;
for (const name of written.sort()) {
  const raw = readFileSync(join(outdir, name));
  const gz = gzipSync(raw, { level: 9 }).length;
  if (name.endsWith('.js')) jsTotal += gz;
  console.log(`${name.padEnd(10)} ${(raw.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(gz / 1024).toFixed(1).padStart(6)} KB`);
}
console.log(`JS total gzip ${(jsTotal / 1024).toFixed(1)} KB (budget 250 KB)`);
if (jsTotal > 250 * 1024) {
  console.error('JS bundle is over the 250 KB gzip budget');
  process.exit(1);
}
