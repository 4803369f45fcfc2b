// Building the window's DOM. Every string goes in as a text node: text from a notification is data
// and never becomes markup (and the CSP forbids inline script and style anyway).

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** A 16×16 icon drawn from one SVG path, rather than an emoji (emoji depend on the fonts installed). */
function icon(d: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

/** A pin (keep the window open). */
export function pinIcon(): SVGSVGElement {
  return icon('M10 1 15 6 13.5 7.5 12.5 6.5 9.5 9.5 10 13 8.5 14.5 5.5 11.5 2 15 1 14 4.5 10.5 1.5 7.5 3 6 6.5 6.5 9.5 3.5 8.5 2.5Z');
}

/** A clock (snooze). */
export function clockIcon(): SVGSVGElement {
  return icon('M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm0 1.5a5.5 5.5 0 1 1 0 11 5.5 5.5 0 0 1 0-11ZM7.25 4v4.6l3.2 2.1.8-1.25-2.5-1.65V4Z');
}
