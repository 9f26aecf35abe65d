// ASCII-only output (--ascii), for CI logs that mangle Unicode. JSON and XML keep every character
// exactly (\uXXXX escapes, &#xHH; references: the same document to a parser); text gets ASCII
// stand-ins for the symbols the reports use, and \u{HH} for anything else (a trace line's own bytes).
export type AsciiStyle = 'text' | 'json' | 'xml';

const STAND_INS: Record<string, string> = {
  '§': 'sec. ',
  '→': '->',
  '←': '<-',
  '↳': '->',
  '·': '|',
  '…': '...',
  'µ': 'u',
  '—': '--',
  '–': '-',
  '−': '-',
  '×': 'x',
  '±': '+/-',
  '≤': '<=',
  '≥': '>=',
  '≈': '~',
  '’': "'",
  '‘': "'",
  '“': '"',
  '”': '"',
  '✖': 'x',
  '❌': 'x',
  '✔': 'ok',
  '✅': 'ok',
  '☑': '[x]',
  '⚠': '!',
  '◆': '*',
  '●': 'o',
  '◀': '<',
  '▶': '>',
  '⋮': ':',
  '\u00a0': ' ',
  '\ufe0f': '',
};

function standIn(ch: string): string {
  const known = STAND_INS[ch];
  if (known !== undefined) return known;
  const cp = ch.codePointAt(0)!;
  // Box drawing (lanes, rules) and block elements (bars).
  if (cp >= 0x2500 && cp <= 0x257f) return '─━┄┅┈┉╌╍═'.includes(ch) ? (ch === '━' || ch === '═' ? '=' : '-') : '│┃┆┇┊┋╎╏║'.includes(ch) ? '|' : '+';
  if (cp >= 0x2580 && cp <= 0x259f) return '#';
  return `\\u{${cp.toString(16)}}`;
}

const NON_ASCII = /[^\x00-\x7f]/gu;

export function toAscii(text: string, style: AsciiStyle): string {
  if (style === 'json') {
    // Non-ASCII can only be inside JSON strings: each UTF-16 unit as \uXXXX is the same string.
    return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (style === 'xml') return text.replace(NON_ASCII, (c) => `&#x${c.codePointAt(0)!.toString(16)};`);
  return text.replace(NON_ASCII, standIn);
}
