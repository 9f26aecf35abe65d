// Types shared by the capture modules. `Side` is the analyzer's own (src/types.ts), so a capture
// and the logs it produces speak of `src`/`dst` the same way.
export type { Side } from '../types.js';
