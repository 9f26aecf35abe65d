// The entry of a measured pass (bench.ts runs it in a fresh process): a `migtrace` pass starts its
// reader threads before pass.ts and the analysis modules load, as the bin does before it loads the
// CLI (src/cli/main.ts); the pass's clock starts after loading, for every kind of pass alike.
import './warm-first.js';

await import('./pass.js');
