// Talking to the master: JSON endpoints, the v1 operator API, the operator event stream (RecordIO over fetch), and
// the same-origin proxies for agent sandboxes and framework APIs.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// With authentication on, the browser's Basic login (asked for by the master's 401 on the page itself) is the
// session: every call sends it back to the master, which also forwards it to agents and frameworks.
const CREDENTIALS = 'same-origin';

// What a call was for, in words, so that a refusal says what may not be seen instead of breaking the page.
function purpose(url, method) {
  const path = new URL(url, location.origin).pathname;
  if (path.startsWith('/agent-proxy/')) return path.includes('/files/') ? 'read this sandbox' : "view this agent's executors and tasks";
  if (path.startsWith('/framework-proxy/')) return method && method !== 'GET' ? 'change this through its framework' : "use this framework's API";
  if (path === '/master/state') return 'view tasks and frameworks';
  if (path === '/mezzo/usage') return "view the cluster's usage";
  if (path === '/api/v1') return 'use the operator API';
  return `use ${path}`;
}

async function check(response, method) {
  if (!response.ok) {
    const text = (await response.text()).trim();
    if (response.status === 401) {
      throw new HttpError(401, `Not logged in: the master needs a login to ${purpose(response.url, method)}. Reload the page to sign in${text ? ` (${text})` : ''}.`);
    }
    if (response.status === 403) {
      throw new HttpError(403, `Not allowed to ${purpose(response.url, method)}${text ? `: ${text}` : ''}`);
    }
    throw new HttpError(response.status, `${response.status} ${response.statusText}${text ? `: ${text}` : ''}`);
  }
  return response;
}

export async function getJson(url, init) {
  const response = await check(await fetch(url, { headers: { Accept: 'application/json' }, credentials: CREDENTIALS, ...init }), init?.method);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export async function getText(url) {
  return (await check(await fetch(url, { credentials: CREDENTIALS }))).text();
}

export async function sendJson(method, url, body) {
  const response = await check(await fetch(url, {
    method,
    credentials: CREDENTIALS,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }), method);
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

export function operator(call) {
  return sendJson('POST', '/api/v1', call);
}

export const files = {
  state: agentId => getJson(`/agent-proxy/${encodeURIComponent(agentId)}/state`),
  browse: (agentId, path) => getJson(`/agent-proxy/${encodeURIComponent(agentId)}/files/browse?path=${encodeURIComponent(path)}`),
  read: (agentId, path, offset, length) =>
    getJson(`/agent-proxy/${encodeURIComponent(agentId)}/files/read?path=${encodeURIComponent(path)}&offset=${offset}${length === undefined ? '' : `&length=${length}`}`),
  downloadUrl: (agentId, path) => `/agent-proxy/${encodeURIComponent(agentId)}/files/download?path=${encodeURIComponent(path)}`,
};

export function frameworkUrl(frameworkId, path) {
  return `/framework-proxy/${encodeURIComponent(frameworkId)}/${path.replace(/^\//, '')}`;
}

// Splits a RecordIO byte stream ("<length>\n<record>...", docs/recordio.md) into records. Lengths count bytes, so the
// buffer stays binary until a whole record is there.
export class RecordIOReader {
  constructor() {
    this.buffer = new Uint8Array(0);
    this.decoder = new TextDecoder();
  }

  push(chunk) {
    const merged = new Uint8Array(this.buffer.length + chunk.length);
    merged.set(this.buffer);
    merged.set(chunk, this.buffer.length);
    this.buffer = merged;
    const records = [];
    for (;;) {
      const newline = this.buffer.indexOf(10);
      if (newline < 0) break;
      const header = this.decoder.decode(this.buffer.subarray(0, newline));
      const length = Number(header);
      if (!/^\d+$/.test(header) || !Number.isSafeInteger(length)) throw new Error(`Bad RecordIO length '${header}'`);
      if (this.buffer.length < newline + 1 + length) break;
      records.push(this.decoder.decode(this.buffer.subarray(newline + 1, newline + 1 + length)));
      this.buffer = this.buffer.slice(newline + 1 + length);
    }
    return records;
  }
}

// Follows the master's operator event stream (POST /api/v1 SUBSCRIBE) for as long as the page lives; reconnects with
// exponential backoff (1 s doubling to 30 s, reset once a stream delivers its SUBSCRIBED event).
export function subscribeEvents(onEvent, onStatus) {
  let stopped = false;
  let controller = null;
  let delay = 1000;
  let timer = null;

  async function connect() {
    controller = new AbortController();
    let refused = false;
    onStatus('connecting');
    try {
      const response = await fetch('/api/v1', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ type: 'SUBSCRIBE' }),
        credentials: CREDENTIALS,
        signal: controller.signal,
      });
      if (response.status === 401 || response.status === 403) {
        // Not a network hiccup: say so in the badge, and keep retrying slowly (a new login may allow it).
        onStatus(response.status === 401 ? 'not logged in' : 'not allowed');
        refused = true;
      }
      await check(response, 'POST');
      const reader = response.body.getReader();
      const records = new RecordIOReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const record of records.push(value)) {
          const event = JSON.parse(record);
          if (event.type === 'SUBSCRIBED') {
            delay = 1000;
            onStatus('live');
          }
          onEvent(event);
        }
      }
    } catch (error) {
      if (stopped) return;
      console.warn('operator event stream:', error);
    }
    if (stopped) return;
    if (!refused) onStatus('reconnecting');
    timer = setTimeout(connect, refused ? 30000 : delay);
    delay = Math.min(delay * 2, 30000);
  }

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller?.abort();
  };
}
