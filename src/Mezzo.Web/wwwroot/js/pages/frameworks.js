import { h, replace, section, table, badge, mb, num, link, time, errorBox } from '../dom.js';
import * as store from '../store.js';
import { taskTable } from './agents.js';

function totals(state) {
  const total = { cpus: 0, mem: 0, disk: 0 };
  for (const agent of state.slaves) for (const r of Object.keys(total)) total[r] += agent.resources?.[r] ?? 0;
  return total;
}

// DRF's dominant share: the largest fraction of any one resource the framework holds.
export function dominantShare(used, total) {
  return Math.max(0, ...Object.keys(total).map(r => (total[r] > 0 ? (used?.[r] ?? 0) / total[r] : 0)));
}

export function frameworksPage(view) {
  const body = h('div', {});
  view.append(h('h1', {}, 'Frameworks'), body);
  return store.watch(({ state, error }) => {
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    const total = totals(state);
    const row = (f, completed) => h('tr', { 'data-framework': f.id },
      h('td', {}, link(`/ui/frameworks/${encodeURIComponent(f.id)}`, f.id)),
      h('td', {}, f.name),
      h('td', {}, (f.roles?.length ? f.roles : [f.role]).join(', ')),
      h('td', {}, badge(completed ? 'COMPLETED' : f.connected ? (f.active ? 'ACTIVE' : 'SUPPRESSED') : 'DISCONNECTED')),
      h('td', {}, f.tasks.length),
      h('td', {}, num(f.used_resources.cpus)),
      h('td', {}, mb(f.used_resources.mem)),
      h('td', {}, `${(100 * dominantShare(f.used_resources, total)).toFixed(1)}%`),
      h('td', {}, time(f.registered_time)));
    replace(body,
      section('Active', table(['ID', 'Name', 'Roles', 'State', 'Tasks', 'CPUs', 'Memory', 'Dominant share', 'Registered'],
        state.frameworks.map(f => row(f, false)))),
      section('Completed', table(['ID', 'Name', 'Roles', 'State', 'Tasks', 'CPUs', 'Memory', 'Dominant share', 'Registered'],
        state.completed_frameworks.map(f => row(f, true)))));
  });
}

export function frameworkPage(view, [frameworkId]) {
  const body = h('div', {});
  view.append(h('h1', {}, 'Framework ', h('code', {}, frameworkId)), body);
  return store.watch(({ state, error }) => {
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    const f = [...state.frameworks, ...state.completed_frameworks].find(x => x.id === frameworkId);
    if (!f) return replace(body, errorBox(`No framework ${frameworkId}`));
    const tasks = store.allTasks(state).filter(t => t.framework_id === frameworkId);
    replace(body,
      section('Framework', h('dl', {},
        h('dt', {}, 'Name'), h('dd', {}, f.name),
        h('dt', {}, 'User / principal'), h('dd', {}, `${f.user ?? ''} / ${f.principal ?? ''}`),
        h('dt', {}, 'Roles'), h('dd', {}, (f.roles?.length ? f.roles : [f.role]).join(', ')),
        h('dt', {}, 'Suppressed roles'), h('dd', {}, f.suppressed_roles?.join(', ') || 'none'),
        h('dt', {}, 'Web UI'), h('dd', {}, f.webui_url || 'none'),
        h('dt', {}, 'Used'), h('dd', {}, `${num(f.used_resources.cpus)} CPUs, ${mb(f.used_resources.mem)}`),
        h('dt', {}, 'Offered'), h('dd', {}, `${num(f.offered_resources.cpus)} CPUs, ${mb(f.offered_resources.mem)}`),
        h('dt', {}, 'Dominant share'), h('dd', {}, `${(100 * dominantShare(f.used_resources, totals(state))).toFixed(1)}%`),
        h('dt', {}, 'Capabilities'), h('dd', {}, f.capabilities?.join(', ') || 'none'))),
      section(`Tasks (${tasks.length})`, taskTable(tasks)));
  });
}
