// --format json: the Report contract (src/types.ts), as is. Other tools read it: keep it stable.
import type { Report } from '../types.js';

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
