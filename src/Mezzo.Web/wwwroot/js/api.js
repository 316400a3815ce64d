// Talking to the master: JSON endpoints, the v1 operator API, the operator event stream (RecordIO over fetch), and
// the same-origin proxies for agent sandboxes and framework APIs.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function check(response) {
  if (!response.ok) {
    const text = (await response.text()).trim();
    throw new HttpError(response.status, `${response.status} ${response.statusText}${text ? `: ${text}` : ''}`);
  }
  return response;
}

export async function getJson(url, init) {
  const response = await check(await fetch(url, { headers: { Accept: 'application/json' }, ...init }));
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export async function getText(url) {
  return (await check(await fetch(url))).text();
}

export async function sendJson(method, url, body) {
  const response = await check(await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
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
    onStatus('connecting');
    try {
      const response = await fetch('/api/v1', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ type: 'SUBSCRIBE' }),
        signal: controller.signal,
      });
      await check(response);
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
    onStatus('reconnecting');
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  }

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller?.abort();
  };
}
