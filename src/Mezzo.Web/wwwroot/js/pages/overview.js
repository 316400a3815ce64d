import { h, s, replace, section, stat, bar, mb, num, link, errorBox } from '../dom.js';
import * as store from '../store.js';

const TERMINAL = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'];

export function overviewPage(view) {
  const body = h('div', {});
  view.append(h('h1', {}, 'Cluster overview'), body);
  return store.watch(({ state, error, samples }) => {
    if (!state) {
      replace(body, error ? errorBox(error) : 'Loading…');
      return;
    }
    const tasks = store.allTasks(state);
    const byState = {};
    for (const task of tasks) byState[task.state] = (byState[task.state] ?? 0) + 1;
    const total = { cpus: 0, mem: 0, disk: 0 };
    const used = { cpus: 0, mem: 0, disk: 0 };
    for (const agent of state.slaves) {
      for (const r of Object.keys(total)) {
        total[r] += agent.resources?.[r] ?? 0;
        used[r] += agent.used_resources?.[r] ?? 0;
      }
    }
    const active = tasks.filter(t => !TERMINAL.includes(t.state)).length;
    replace(body,
      error ? errorBox(error) : null,
      h('div', { class: 'stats' },
        stat('Agents', link('/ui/agents', state.slaves.length), { id: 'stat-agents' }),
        stat('Frameworks', link('/ui/frameworks', state.frameworks.length), { id: 'stat-frameworks' }),
        stat('Active tasks', link('/ui/tasks', active), { id: 'stat-tasks' }),
        stat('Master', state.hostname ?? ''),
        stat('Version', state.mezzo_version ?? state.version)),
      h('div', { class: 'grid2' },
        section('Resources',
          bar('CPUs', used.cpus, total.cpus, v => num(v)),
          bar('Memory', used.mem, total.mem, mb),
          bar('Disk', used.disk, total.disk, mb)),
        section('Tasks by state',
          h('ul', { class: 'states', id: 'tasks-by-state' },
            Object.keys(byState).length
              ? Object.entries(byState).sort().map(([k, v]) => h('li', {}, h('span', {}, k), h('b', {}, v)))
              : h('li', { class: 'muted' }, 'no tasks yet')))),
      section('Usage, last hour', usageChart(samples)));
  });
}

// Used share of each resource over the sampled window, as three lines on one 0-100 % scale.
function usageChart(samples) {
  const width = 800;
  const height = 180;
  const pad = 30;
  const now = Date.now();
  const from = now - 3600 * 1000;
  const x = t => pad + ((t - from) / (now - from)) * (width - pad - 10);
  const y = p => height - pad + -(p / 100) * (height - pad - 10);
  const series = [['cpus', '#2f6fdb'], ['mem', '#d9822b'], ['disk', '#3a9d5d']];
  const lines = series.map(([key, color]) => {
    const points = samples.map(sample => {
      const [u, t] = sample[key];
      return `${x(sample.t).toFixed(1)},${y(t > 0 ? (100 * u) / t : 0).toFixed(1)}`;
    });
    const last = samples.at(-1);
    return [
      s('polyline', { points: points.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'data-series': key }),
      // The latest sample as a dot, so even the first one shows.
      last ? s('circle', { cx: x(last.t), cy: y(last[key][1] > 0 ? (100 * last[key][0]) / last[key][1] : 0), r: 3, fill: color }) : null,
    ];
  });
  const grid = [0, 25, 50, 75, 100].map(p => [
    s('line', { x1: pad, x2: width - 10, y1: y(p), y2: y(p), class: 'grid' }),
    s('text', { x: 2, y: y(p) + 4, class: 'axis' }, `${p}%`),
  ]);
  const ticks = [60, 45, 30, 15, 0].map(m => s('text', { x: x(now - m * 60000) - 12, y: height - 8, class: 'axis' }, m ? `-${m}m` : 'now'));
  return h('div', {},
    s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', id: 'usage-chart', role: 'img', 'aria-label': 'CPU, memory and disk used, last hour' },
      grid, ticks, lines),
    h('div', { class: 'legend' }, series.map(([key, color]) => h('span', {}, h('i', { style: `background:${color}` }), key)),
      h('span', { class: 'muted' }, `${samples.length} samples, one per ${store.SAMPLE_INTERVAL_MS / 1000} s`)));
}
