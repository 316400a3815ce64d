// A tiny hyperscript helper: h('div', {class: 'x', onclick: fn}, child, ...). No framework, no build step.
export function h(tag, attrs, ...children) {
  const el = document.createElementNS(tag === 'svg' || attrs?.__svg ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (key === '__svg' || value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

// SVG elements need their namespace all the way down.
export function s(tag, attrs, ...children) {
  return h(tag, { ...attrs, __svg: true }, ...children);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function link(href, ...children) {
  return h('a', { href, 'data-link': true }, ...children);
}

export function table(headers, rows, attrs) {
  return h('table', attrs ?? {},
    h('thead', {}, h('tr', {}, headers.map(header => h('th', {}, header)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'none'))));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

export function stat(label, value, attrs) {
  return h('div', { class: 'stat', ...attrs }, h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-label' }, label));
}

export function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? badgeKind(text)}` }, text);
}

function badgeKind(text) {
  const t = String(text).toUpperCase();
  if (/RUNNING|HEALTHY|SUCCESS|ACTIVE|FINISHED|IDLE|UP/.test(t)) return 'ok';
  if (/FAILED|ERROR|LOST|UNHEALTHY|GONE|DRAINED|DOWN|UNREACHABLE/.test(t)) return 'bad';
  if (/STAGING|STARTING|KILLING|DRAINING|QUEUED|DEPLOY|PENDING|INACTIVE|DISCONNECTED/.test(t)) return 'warn';
  return 'neutral';
}

// Mesos reports mem and disk in MB.
export function mb(value) {
  const n = Number(value ?? 0);
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} TB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} GB`;
  return `${n.toFixed(n % 1 ? 1 : 0)} MB`;
}

export function bytes(value) {
  const n = Number(value ?? 0);
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function num(value, digits = 2) {
  const n = Number(value ?? 0);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function time(seconds) {
  if (!seconds) return '';
  return new Date(seconds * 1000).toLocaleString();
}

export function percent(part, whole) {
  return whole > 0 ? Math.min(100, (100 * part) / whole) : 0;
}

// A used-versus-total bar.
export function bar(label, used, total, format) {
  const p = percent(used, total);
  return h('div', { class: 'bar', 'data-resource': label },
    h('div', { class: 'bar-label' }, h('span', {}, label), h('span', { class: 'muted' }, `${format(used)} / ${format(total)} (${p.toFixed(0)}%)`)),
    h('div', { class: 'bar-track' }, h('div', { class: 'bar-fill', style: `width:${p}%` })));
}

export function errorBox(error) {
  return h('div', { class: 'error', role: 'alert' }, String(error?.message ?? error));
}
