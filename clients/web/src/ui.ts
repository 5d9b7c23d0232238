/**
 * DOM building without HTML strings: every text goes in as a text node, so nothing a node or a
 * user sends can become markup. Plus the formats the pages share (amounts, hashes, times).
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

/** An element `tag` with `attrs` (`on…` keys are listeners) and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces `el`'s content. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Base units per I8O. */
const UNITS = 100_000_000n;

/** `units` base units as I8O with up to 8 decimals, thousands grouped: `1,234.5 I8O`. */
export function amount(units: number | bigint): string {
  const n = BigInt(units);
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  const whole = (abs / UNITS).toLocaleString('en-US');
  const frac = (abs % UNITS).toString().padStart(8, '0').replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''} I8O`;
}

/** A fee rate in base units per byte. */
export function feeRate(perByte: number): string {
  return `${perByte.toLocaleString('en-US')} units/B`;
}

/** The first and last characters of a long hex string. */
export function short(hash: string, keep = 8): string {
  return hash.length <= keep * 2 + 1 ? hash : `${hash.slice(0, keep)}…${hash.slice(-keep)}`;
}

/** A Unix time as local date and time, and how long ago. */
export function when(unix: number, now = Date.now() / 1000): string {
  const date = new Date(unix * 1000).toLocaleString('en-GB', { hour12: false });
  const ago = Math.max(0, Math.round(now - unix));
  const rel = ago < 60 ? `${ago} s ago` : ago < 3600 ? `${Math.round(ago / 60)} min ago` : ago < 86400 ? `${Math.round(ago / 3600)} h ago` : `${Math.round(ago / 86400)} d ago`;
  return `${date} (${rel})`;
}

/** `n` bytes in B / kB / MB. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

/** A link inside the app. */
export function link(route: string, text: string, title?: string): HTMLAnchorElement {
  return h('a', { href: `#/${route}`, title }, text);
}

/** A definition list of label / value pairs. */
export function facts(rows: [string, Child | Child[]][]): HTMLDListElement {
  return h('dl', { class: 'facts' }, rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}

/** A table with a header row. */
export function table(head: string[], rows: Child[][], empty = 'None.'): HTMLElement {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h(
    'div',
    { class: 'scroll' },
    h('table', {}, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))),
  );
}

/** A message the user can act on, announced to screen readers. */
export function problem(text: string): HTMLElement {
  return h('p', { class: 'problem', role: 'alert' }, text);
}
