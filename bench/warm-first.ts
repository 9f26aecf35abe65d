// Imported first by run-pass.ts: a `migtrace` pass starts its reader threads before the analysis
// modules load, as the bin does before it loads the CLI (src/cli/main.ts, src/cli/warm.ts).
import { warmFor } from '../src/cli/warm.js';

const [kind, ...files] = process.argv.slice(2);
if (kind === 'migtrace') warmFor(['check', ...files]);
