import { h, replace, section, table, badge, mb, num, link, time, bytes, errorBox } from '../dom.js';
import { files } from '../api.js';
import * as store from '../store.js';
import { taskTable } from './agents.js';

export function tasksPage(view) {
  const filter = h('input', { type: 'search', placeholder: 'Filter by id, name, state, framework', id: 'task-filter', class: 'filter' });
  const body = h('div', {});
  view.append(h('h1', {}, 'Tasks'), filter, body);
  let last = null;
  const render = ({ state, error }) => {
    last = { state, error };
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    const q = filter.value.trim().toLowerCase();
    const tasks = store.allTasks(state)
      .filter(t => !q || [t.id, t.name, t.state, t.framework_name, t.framework_id].some(v => String(v ?? '').toLowerCase().includes(q)))
      .sort((a, b) => lastUpdate(b) - lastUpdate(a));
    replace(body, taskTable(tasks));
  };
  filter.addEventListener('input', () => last && render(last));
  return store.watch(render);
}

function lastUpdate(task) {
  return Math.max(0, ...(task.statuses ?? []).map(s => s.timestamp ?? 0));
}

export function taskPage(view, [frameworkId, taskId]) {
  const body = h('div', {});
  const sandbox = h('div', {});
  view.append(h('h1', {}, 'Task ', h('code', {}, taskId)), body, sandbox);
  let sandboxFor = null;
  let closeSandbox = () => {};
  const unwatch = store.watch(({ state, error }) => {
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    const task = store.findTask(state, frameworkId, taskId);
    if (!task) return replace(body, errorBox(`No task ${taskId} of framework ${frameworkId}`));
    replace(body, h('div', { class: 'grid2' },
      section('Task', h('dl', {},
        h('dt', {}, 'Name'), h('dd', {}, task.name),
        h('dt', {}, 'State'), h('dd', { id: 'task-state' }, badge(task.state)),
        h('dt', {}, 'Framework'), h('dd', {}, link(`/ui/frameworks/${encodeURIComponent(frameworkId)}`, task.framework_name ?? frameworkId)),
        h('dt', {}, 'Agent'), h('dd', {}, link(`/ui/agents/${encodeURIComponent(task.slave_id)}`, task.slave_id)),
        h('dt', {}, 'Role'), h('dd', {}, task.role),
        h('dt', {}, 'Resources'), h('dd', {}, `${num(task.resources?.cpus)} CPUs, ${mb(task.resources?.mem)}, ports ${task.resources?.ports ?? 'none'}`))),
      section('State history', table(['State', 'Time'],
        (task.statuses ?? []).map(s => h('tr', {}, h('td', {}, badge(s.state)), h('td', {}, time(s.timestamp)))),
        { id: 'state-history' }))));
    if (sandboxFor !== task.slave_id) {
      sandboxFor = task.slave_id;
      closeSandbox();
      closeSandbox = openSandbox(sandbox, task);
    }
  });
  return () => {
    unwatch();
    closeSandbox();
  };
}

async function sandboxDirectory(agentId, frameworkId, taskId) {
  const agentState = await files.state(agentId);
  for (const framework of agentState.frameworks ?? []) {
    if (framework.id !== frameworkId) continue;
    for (const executor of [...(framework.executors ?? []), ...(framework.completed_executors ?? [])]) {
      const tasks = [...(executor.tasks ?? []), ...(executor.completed_tasks ?? []), ...(executor.queued_tasks ?? [])];
      if (executor.source === taskId || tasks.some(t => t.id === taskId)) return executor.directory;
    }
  }
  return null;
}

// The sandbox: a directory browser (agent /files/browse through the master's proxy) and a live tail of one file.
function openSandbox(container, task) {
  let closed = false;
  let stopTail = () => {};
  const listing = h('div', { id: 'sandbox-listing' }, 'Loading sandbox…');
  const viewer = h('div', { id: 'sandbox-viewer' });
  replace(container, section('Sandbox', listing, viewer));
  let root = null;

  const browse = async dir => {
    try {
      const entries = await files.browse(task.slave_id, dir);
      if (closed) return;
      const rel = dir.slice(root.length) || '/';
      replace(listing,
        h('p', {}, 'Path: ', h('code', { id: 'sandbox-path' }, rel), ' ',
          dir !== root ? h('button', { class: 'small', onclick: () => browse(dir.replace(/\/[^/]+$/, '')) }, 'Up') : null),
        table(['Name', 'Size', 'Modified', ''], entries.sort((a, b) => a.path.localeCompare(b.path)).map(entry => {
          const name = entry.path.split('/').pop();
          const isDir = entry.mode.startsWith('d');
          return h('tr', { 'data-file': name },
            h('td', {}, h('a', { href: '#', onclick: e => { e.preventDefault(); isDir ? browse(entry.path) : tail(entry.path); } }, isDir ? `${name}/` : name)),
            h('td', {}, isDir ? '' : bytes(entry.size)),
            h('td', {}, time(entry.mtime)),
            h('td', {}, isDir ? '' : h('a', { href: files.downloadUrl(task.slave_id, entry.path) }, 'download')));
        })));
    } catch (e) {
      if (!closed) replace(listing, errorBox(e));
    }
  };

  const tail = path => {
    stopTail();
    stopTail = tailFile(viewer, task.slave_id, path);
  };

  (async () => {
    try {
      // A task just launched may not have reached the agent yet: look again for a little while.
      for (let attempt = 0; !root && !closed && attempt < 30; attempt++) {
        root = await sandboxDirectory(task.slave_id, task.framework_id, task.id);
        if (!root) await new Promise(resolve => setTimeout(resolve, 1000));
      }
      if (closed) return;
      if (!root) {
        replace(listing, h('p', { class: 'muted' }, 'The agent does not know this task\'s sandbox (any more).'));
        return;
      }
      replace(container, section('Sandbox',
        h('div', { class: 'tabs' }, ['stdout', 'stderr'].map(name =>
          h('button', { class: 'small', id: `tail-${name}`, onclick: () => tail(`${root}/${name}`) }, `Tail ${name}`))),
        listing, viewer));
      await browse(root);
      if (!closed) tail(`${root}/stdout`);
    } catch (e) {
      if (!closed) replace(listing, errorBox(e));
    }
  })();

  return () => {
    closed = true;
    stopTail();
  };
}

// Follows a file like `tail -f`: starts at the last 64 KiB, then reads what was appended, one request a second
// (the agent's /files/read with offset/length, as Mesos's UI does).
function tailFile(container, agentId, path) {
  const CHUNK = 64 * 1024;
  const name = path.split('/').pop();
  const pre = h('pre', { class: 'log', id: 'log', 'data-file': name });
  const status = h('span', { class: 'muted' }, '');
  const follow = h('input', { type: 'checkbox', checked: true, id: 'follow' });
  replace(container, h('div', { class: 'log-head' }, h('b', {}, name), ' ',
    h('label', {}, follow, ' follow'), ' ', status), pre);
  let offset = null;
  let stopped = false;
  let timer = null;
  const encoder = new TextEncoder();

  const poll = async () => {
    try {
      if (offset === null) {
        const size = (await files.read(agentId, path, -1)).offset;
        offset = Math.max(0, size - CHUNK);
      }
      for (;;) {
        const chunk = await files.read(agentId, path, offset, CHUNK);
        if (stopped) return;
        if (!chunk.data) {
          // Under --container-logger=logrotate the file is renamed away and starts over: a size below what was read
          // means a new file, read from its start on the next poll.
          const size = (await files.read(agentId, path, -1)).offset;
          if (size < offset) offset = 0;
          break;
        }
        pre.append(chunk.data);
        offset = chunk.offset + encoder.encode(chunk.data).length;
        if (follow.checked) pre.scrollTop = pre.scrollHeight;
      }
      status.textContent = `${bytes(offset)} read`;
    } catch (e) {
      status.textContent = String(e.message ?? e);
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  };
  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
