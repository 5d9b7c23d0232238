// Builds the web app into dist/ (index.html, app.js, app.css), which the node embeds and serves
// at `/` (rpc/src/webapp.rs). The SDK is bundled from its TypeScript sources (../ts/src), so
// `npm ci` must have run in ../ts as well as here. Deterministic: the same sources and locked
// packages give the same bytes, which `node build.mjs --check` compares with the committed
// dist/ (the test suite runs it), so the binary never serves anything but a build of these
// sources.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const sdk = join(here, '../ts/src/index.ts');
if (!existsSync(join(here, '../ts/node_modules/@noble/curves'))) {
  console.error('the SDK\'s packages are missing: run `npm ci` in clients/ts first');
  process.exit(2);
}

const bundle = await build({
  entryPoints: [join(here, 'src/main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  legalComments: 'eof',
  charset: 'utf8',
  alias: { '@i8o8icoin/sdk': sdk },
  write: false,
  logLevel: 'warning',
});

const outputs = {
  'index.html': readFileSync(join(here, 'src/index.html')),
  'app.js': Buffer.from(bundle.outputFiles[0].contents),
  'app.css': readFileSync(join(here, 'src/app.css')),
};

const dist = join(here, 'dist');
let stale = [];
for (const [name, bytes] of Object.entries(outputs)) {
  const path = join(dist, name);
  if (check) {
    if (!existsSync(path) || !readFileSync(path).equals(bytes)) stale.push(name);
  } else {
    mkdirSync(dist, { recursive: true });
    writeFileSync(path, bytes);
  }
}
if (stale.length) {
  console.error(`clients/web/dist is not the build of clients/web/src: ${stale.join(', ')} differ; run \`npm run build\` in clients/web and commit dist/`);
  process.exit(1);
}
if (!check) console.log(`built ${Object.keys(outputs).map((n) => `dist/${n}`).join(', ')} (app.js ${outputs['app.js'].length} bytes)`);
