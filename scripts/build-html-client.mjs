// Bundles the HTML report's page script (src/report/html-client/*.ts, with the zoom and bucket
// arithmetic of src/timeline/aggregate.ts) into one self-contained IIFE, which
// src/report/html.ts inlines into every report: dist/src/report/html-client.js. Type checking is
// tsc's (npm run build runs `tsc -p src/report/html-client` first); esbuild only strips the types
// and joins the modules.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['src/report/html-client/main.ts'],
  tsconfig: 'src/report/html-client/tsconfig.json',
  outfile: 'dist/src/report/html-client.js',
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
});
