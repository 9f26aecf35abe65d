// SVG elements, built with attributes and text content only (never markup from the data).

const NS = 'http://www.w3.org/2000/svg';

export type Attrs = Record<string, string | number>;

export function el(name: string, attrs: Attrs, parent?: Element | null): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (parent) parent.appendChild(e);
  return e;
}

export function txt(parent: Element, x: number, y: number, s: string, cls?: string | null, anchor?: string): SVGElement {
  const t = el('text', { x, y }, parent);
  if (cls) t.setAttribute('class', cls);
  if (anchor) t.setAttribute('text-anchor', anchor);
  t.textContent = s;
  return t;
}
