import { h, replace, section, table, badge, bar, mb, num, link, time, errorBox } from '../dom.js';
import { operator } from '../api.js';
import * as store from '../store.js';

function drainState(agent) {
  return agent.drain_info?.state ?? (agent.deactivated ? 'DEACTIVATED' : agent.active ? 'ACTIVE' : 'INACTIVE');
}

function attributes(agent) {
  return Object.entries(agent.attributes ?? {}).map(([k, v]) => `${k}:${v}`).join('; ');
}

// Machines in maintenance (GET_MAINTENANCE_STATUS), keyed by hostname and ip.
async function maintenance() {
  try {
    const status = (await operator({ type: 'GET_MAINTENANCE_STATUS' }))?.get_maintenance_status?.status ?? {};
    const modes = new Map();
    for (const m of status.draining_machines ?? []) modes.set(m.id?.hostname ?? m.id?.ip, 'DRAINING (maintenance)');
    for (const m of status.down_machines ?? []) modes.set(m.hostname ?? m.ip, 'DOWN (maintenance)');
    return modes;
  } catch {
    return new Map();
  }
}

export function agentsPage(view) {
  const body = h('div', {});
  view.append(h('h1', {}, 'Agents'), body);
  let modes = new Map();
  let last = null;
  const render = ({ state, error }) => {
    last = { state, error };
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    replace(body, table(['ID', 'Host', 'CPUs', 'Memory', 'Disk', 'Attributes', 'State', 'Maintenance', 'Registered'],
      state.slaves.map(agent => h('tr', { 'data-agent': agent.id },
        h('td', {}, link(`/ui/agents/${encodeURIComponent(agent.id)}`, agent.id)),
        h('td', {}, `${agent.hostname}:${agent.port}`),
        h('td', {}, `${num(agent.used_resources.cpus)} / ${num(agent.resources.cpus)}`),
        h('td', {}, `${mb(agent.used_resources.mem)} / ${mb(agent.resources.mem)}`),
        h('td', {}, `${mb(agent.used_resources.disk)} / ${mb(agent.resources.disk)}`),
        h('td', {}, attributes(agent)),
        h('td', {}, badge(drainState(agent))),
        h('td', {}, modes.get(agent.hostname) ?? ''),
        h('td', {}, time(agent.registered_time))))));
  };
  maintenance().then(m => { modes = m; if (last) render(last); });
  return store.watch(render);
}

export function agentPage(view, [agentId]) {
  const body = h('div', {});
  view.append(h('h1', {}, 'Agent ', h('code', {}, agentId)), body);
  return store.watch(({ state, error }) => {
    if (!state) return replace(body, error ? errorBox(error) : 'Loading…');
    const agent = state.slaves.find(a => a.id === agentId);
    if (!agent) return replace(body, errorBox(`No registered agent ${agentId}`));
    const tasks = store.allTasks(state).filter(t => t.slave_id === agentId);
    replace(body,
      h('div', { class: 'grid2' },
        section('Resources',
          bar('CPUs', agent.used_resources.cpus, agent.resources.cpus, v => num(v)),
          bar('Memory', agent.used_resources.mem, agent.resources.mem, mb),
          bar('Disk', agent.used_resources.disk, agent.resources.disk, mb),
          h('p', {}, 'Ports: ', h('code', {}, agent.resources.ports ?? 'none'))),
        section('Agent',
          h('dl', {},
            h('dt', {}, 'Address'), h('dd', {}, `${agent.hostname}:${agent.port}`),
            h('dt', {}, 'PID'), h('dd', {}, agent.pid),
            h('dt', {}, 'Version'), h('dd', {}, agent.version),
            h('dt', {}, 'State'), h('dd', {}, badge(drainState(agent))),
            h('dt', {}, 'Attributes'), h('dd', {}, attributes(agent) || 'none'),
            h('dt', {}, 'Reserved for'), h('dd', {}, Object.keys(agent.reserved_resources ?? {}).join(', ') || 'none'),
            h('dt', {}, 'Registered'), h('dd', {}, time(agent.registered_time))))),
      section(`Tasks (${tasks.length})`, taskTable(tasks)));
  });
}

export function taskTable(tasks) {
  return table(['Task', 'Name', 'Framework', 'State', 'CPUs', 'Memory', 'Agent'],
    tasks.map(task => h('tr', { 'data-task': task.id },
      h('td', {}, link(`/ui/tasks/${encodeURIComponent(task.framework_id)}/${encodeURIComponent(task.id)}`, task.id)),
      h('td', {}, task.name),
      h('td', {}, link(`/ui/frameworks/${encodeURIComponent(task.framework_id)}`, task.framework_name ?? task.framework_id)),
      h('td', {}, badge(task.state)),
      h('td', {}, num(task.resources?.cpus)),
      h('td', {}, mb(task.resources?.mem)),
      h('td', {}, link(`/ui/agents/${encodeURIComponent(task.slave_id)}`, task.slave_id)))));
}
