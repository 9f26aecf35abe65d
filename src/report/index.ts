// One reporter per format (as knip does): each is a pure function of the report to a string.
import type { Report } from '../types.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';

export interface RenderOptions {
  verbose: boolean;
}

export const REPORTERS = {
  text: (r: Report, o: RenderOptions) => renderText(r, o),
  json: (r: Report) => renderJson(r),
} satisfies Record<string, (r: Report, o: RenderOptions) => string>;

export type Format = keyof typeof REPORTERS;
export const FORMATS = Object.keys(REPORTERS) as Format[];
