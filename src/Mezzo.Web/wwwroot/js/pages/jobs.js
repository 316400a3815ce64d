import { h, s, replace, section, table, badge, time, link, errorBox } from '../dom.js';
import { getJson, getText, sendJson, frameworkUrl } from '../api.js';
import * as store from '../store.js';

const EXAMPLE = {
  name: 'hello-job',
  command: 'echo hello from a job',
  schedule: 'R/2030-01-01T00:00:00Z/PT24H',
  epsilon: 'PT1M',
  cpus: 0.1,
  mem: 32,
  owner: '',
};

// Chronos's graph/csv: "node,NAME,LASTSTATE,STATE" and "link,PARENT,CHILD" lines.
export function parseGraphCsv(text) {
  const nodes = new Map();
  const links = [];
  for (const line of text.split('\n').map(l => l.trim()).filter(Boolean)) {
    const [kind, a, b, c] = line.split(',');
    if (kind === 'node') nodes.set(a, { name: a, last: b ?? '', state: c ?? '' });
    else if (kind === 'link') links.push([a, b]);
  }
  for (const [a, b] of links) {
    for (const name of [a, b]) if (!nodes.has(name)) nodes.set(name, { name, last: '', state: '' });
  }
  return { nodes: [...nodes.values()], links };
}

// A layered (Sugiyama-style) layout: a job's layer is its longest path from a root, then each layer is ordered by the
// mean position of its parents (one barycentre sweep) to keep edges from crossing where that is cheap.
export function layout(graph) {
  const parents = new Map(graph.nodes.map(n => [n.name, []]));
  for (const [p, c] of graph.links) parents.get(c).push(p);
  const layer = new Map();
  const visiting = new Set();
  const depth = name => {
    if (layer.has(name)) return layer.get(name);
    if (visiting.has(name)) return 0; // a cycle (Chronos forbids them): break it rather than recurse forever
    visiting.add(name);
    const d = Math.max(-1, ...parents.get(name).map(depth)) + 1;
    visiting.delete(name);
    layer.set(name, d);
    return d;
  };
  graph.nodes.forEach(n => depth(n.name));
  const layers = [];
  for (const n of graph.nodes) (layers[layer.get(n.name)] ??= []).push(n.name);
  const position = new Map();
  layers.forEach((names, i) => {
    if (i === 0) names.sort();
    else {
      const centre = name => {
        const ps = parents.get(name).filter(p => position.has(p));
        return ps.length ? ps.reduce((sum, p) => sum + position.get(p), 0) / ps.length : Infinity;
      };
      names.sort((a, b) => centre(a) - centre(b) || a.localeCompare(b));
    }
    names.forEach((name, j) => position.set(name, j));
  });
  return { layers, layer, position };
}

function graphSvg(graph) {
  const { layers, layer, position } = layout(graph);
  const W = 160;
  const H = 36;
  const GX = 40;
  const GY = 50;
  const width = Math.max(1, ...layers.map(l => l.length)) * (W + GX) + GX;
  const height = layers.length * (H + GY) + GY;
  const x = name => GX + position.get(name) * (W + GX);
  const y = name => GY / 2 + layer.get(name) * (H + GY);
  const byName = new Map(graph.nodes.map(n => [n.name, n]));
  const color = n => (n.state === 'running' ? '#2f6fdb' : n.state === 'queued' ? '#d9822b' : n.last === 'failure' ? '#c23b3b' : n.last === 'success' ? '#3a9d5d' : '#7a8699');
  return s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, id: 'job-graph', class: 'graph' },
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#7a8699' }))),
    graph.links.map(([p, c]) => {
      const x1 = x(p) + W / 2;
      const y1 = y(p) + H;
      const x2 = x(c) + W / 2;
      const y2 = y(c);
      return s('path', { d: `M ${x1} ${y1} C ${x1} ${(y1 + y2) / 2}, ${x2} ${(y1 + y2) / 2}, ${x2} ${y2}`, class: 'edge', 'marker-end': 'url(#arrow)', 'data-edge': `${p}->${c}` });
    }),
    graph.nodes.map(n => s('g', { class: 'node', 'data-job': n.name, transform: `translate(${x(n.name)},${y(n.name)})` },
      s('rect', { width: W, height: H, rx: 6, fill: color(byName.get(n.name)) }),
      s('text', { x: W / 2, y: H / 2 + 5, 'text-anchor': 'middle' }, n.name.length > 20 ? `${n.name.slice(0, 19)}…` : n.name))));
}

export function jobsPage(view) {
  view.append(h('h1', {}, 'Jobs'));
  let close = null;
  const hint = h('p', { class: 'muted' }, 'Waiting for a jobs framework to register…');
  view.append(hint);
  const unwatch = store.watch(({ state }) => {
    const framework = store.frameworkOfKind(state, 'jobs');
    if (framework && !close) {
      hint.remove();
      close = openJobs(view, framework);
    }
  });
  return () => {
    unwatch();
    close?.();
  };
}

function openJobs(view, framework) {
  const jobs = h('div', {}, 'Loading…');
  const graph = h('div', { class: 'graph-box' });
  const history = h('div', {});
  const editor = h('textarea', { id: 'job-json', rows: 9, spellcheck: 'false' }, JSON.stringify(EXAMPLE, null, 2));
  const message = h('div', { id: 'job-message' });
  view.append(
    h('p', { class: 'muted' }, 'Framework ', link(`/ui/frameworks/${encodeURIComponent(framework.id)}`, framework.name), ' (Chronos API)'),
    section('Jobs', jobs),
    section('Dependency graph', graph),
    section('Run history', history),
    section('Add or update a job',
      h('form', { onsubmit: async e => {
        e.preventDefault();
        let body;
        try {
          body = JSON.parse(editor.value);
        } catch (err) {
          replace(message, errorBox(`The job definition is not valid JSON: ${err.message}`));
          return;
        }
        try {
          await sendJson('POST', frameworkUrl(framework.id, body.parents?.length ? 'v1/scheduler/dependency' : 'v1/scheduler/iso8601'), body);
          replace(message, h('p', { class: 'ok' }, `Saved ${body.name}.`));
          reload();
        } catch (err) {
          replace(message, errorBox(err));
        }
      } }, editor, h('div', {}, h('button', { type: 'submit' }, 'Save job'))), message));

  async function reload() {
    try {
      const [list, csv] = await Promise.all([
        getJson(frameworkUrl(framework.id, 'v1/scheduler/jobs')),
        getText(frameworkUrl(framework.id, 'v1/scheduler/graph/csv')),
      ]);
      const parsed = parseGraphCsv(csv);
      const states = new Map(parsed.nodes.map(n => [n.name, n]));
      replace(jobs, table(['Job', 'Schedule / parents', 'State', 'Last', 'Successes', 'Errors', 'Last success', 'Last error', ''],
        (list ?? []).sort((a, b) => a.name.localeCompare(b.name)).map(job => h('tr', { 'data-job': job.name },
          h('td', {}, job.name, job.disabled ? h('span', { class: 'muted' }, ' (disabled)') : null),
          h('td', {}, job.schedule ? h('code', {}, job.schedule) : `after ${(job.parents ?? []).join(', ')}`),
          h('td', {}, badge(states.get(job.name)?.state || 'idle')),
          h('td', {}, states.get(job.name)?.last || ''),
          h('td', { class: 'successes' }, job.successCount ?? 0),
          h('td', { class: 'errors' }, job.errorCount ?? 0),
          h('td', {}, job.lastSuccess || ''),
          h('td', {}, job.lastError || ''),
          h('td', {}, h('button', { class: 'small run-now', onclick: async () => {
            try {
              await sendJson('PUT', frameworkUrl(framework.id, `v1/scheduler/job/${encodeURIComponent(job.name)}`));
              replace(message, h('p', { class: 'ok' }, `Started a run of ${job.name}.`));
              reload();
            } catch (err) {
              replace(message, errorBox(err));
            }
          } }, 'Run now'))))));
      replace(graph, parsed.nodes.length ? graphSvg(parsed) : h('p', { class: 'muted' }, 'No jobs yet.'));
    } catch (err) {
      replace(jobs, errorBox(err));
    }
  }

  // Every run is a task of the jobs framework named ChronosTask:<job>; the master keeps them, live and completed.
  const unwatch = store.watch(({ state }) => {
    const runs = store.allTasks(state).filter(t => t.framework_id === framework.id)
      .map(t => ({ ...t, job: (t.name ?? '').replace(/^ChronosTask:/, ''), started: t.statuses?.[0]?.timestamp ?? 0, ended: t.statuses?.at(-1)?.timestamp ?? 0 }))
      .sort((a, b) => b.started - a.started);
    replace(history, table(['Job', 'Run (task)', 'State', 'Started', 'Last update'],
      runs.map(run => h('tr', { 'data-run': run.job },
        h('td', {}, run.job),
        h('td', {}, link(`/ui/tasks/${encodeURIComponent(run.framework_id)}/${encodeURIComponent(run.id)}`, run.id)),
        h('td', {}, badge(run.state)),
        h('td', {}, time(run.started)),
        h('td', {}, time(run.ended))))));
  });

  // Chronos has no event stream: re-read the jobs when the master reports a task change (runs start and end as tasks),
  // and otherwise every 10 s for schedule-only changes.
  let timer = null;
  const unEvent = store.onEvent(event => {
    if (event.type === 'TASK_ADDED' || event.type === 'TASK_UPDATED') {
      clearTimeout(timer);
      timer = setTimeout(reload, 300);
    }
  });
  const interval = setInterval(reload, 10000);
  reload();
  return () => {
    unwatch();
    unEvent();
    clearTimeout(timer);
    clearInterval(interval);
  };
}
