import { h, replace, section, table, num, mb, errorBox } from '../dom.js';
import { getJson, operator } from '../api.js';

function scalars(resources) {
  const list = Array.isArray(resources) ? resources : [];
  return list.filter(r => r.scalar).map(r => `${r.name}: ${r.name === 'cpus' ? num(r.scalar.value) : mb(r.scalar.value)}`).join(', ');
}

function quantities(map) {
  return Object.entries(map ?? {}).map(([k, v]) => `${k}: ${k === 'cpus' ? num(v.value ?? v) : mb(v.value ?? v)}`).join(', ');
}

// Roles from GET /roles, quota from GET_QUOTA, weights from GET /weights; re-read when the page opens or a change is
// saved here (roles change rarely; no need to poll).
export function rolesPage(view) {
  const body = h('div', {}, 'Loading…');
  const weightRole = h('input', { placeholder: 'role', id: 'weight-role' });
  const weightValue = h('input', { placeholder: 'weight', type: 'number', step: '0.1', min: '0', id: 'weight-value' });
  const message = h('div', {});
  const form = section('Set a weight',
    h('form', { class: 'inline', onsubmit: async e => {
      e.preventDefault();
      try {
        await operator({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: weightRole.value, weight: Number(weightValue.value) }] } });
        replace(message, h('p', { class: 'ok' }, `Weight of ${weightRole.value} set.`));
        load();
      } catch (err) {
        replace(message, errorBox(err));
      }
    } }, weightRole, weightValue, h('button', { type: 'submit' }, 'Save')), message);
  view.append(h('h1', {}, 'Roles, quota and weights'), body, form);

  async function load() {
    try {
      const [roles, quota, weights] = await Promise.all([
        getJson('/roles'),
        operator({ type: 'GET_QUOTA' }),
        getJson('/weights'),
      ]);
      const configs = quota?.get_quota?.status?.configs ?? [];
      const infos = quota?.get_quota?.status?.infos ?? [];
      replace(body,
        section('Roles', table(['Role', 'Weight', 'Frameworks', 'Allocated', 'Offered', 'Reserved', 'Quota guarantee', 'Quota limit'],
          (roles.roles ?? []).map(role => {
            const config = configs.find(c => c.role === role.name);
            return h('tr', { 'data-role': role.name },
              h('td', {}, role.name),
              h('td', {}, num(role.weight)),
              h('td', {}, (role.frameworks ?? []).length),
              h('td', {}, quantities(role.allocated ?? role.resources)),
              h('td', {}, quantities(role.offered)),
              h('td', {}, quantities(role.reserved)),
              h('td', {}, quantities(config?.guarantees ?? role.quota?.guarantee)),
              h('td', {}, quantities(config?.limits ?? role.quota?.limit)));
          }))),
        h('div', { class: 'grid2' },
          section('Quota', table(['Role', 'Guarantees', 'Limits'],
            [...configs.map(c => h('tr', {}, h('td', {}, c.role), h('td', {}, quantities(c.guarantees)), h('td', {}, quantities(c.limits)))),
              ...infos.filter(i => !configs.some(c => c.role === i.role))
                .map(i => h('tr', {}, h('td', {}, i.role), h('td', {}, scalars(i.guarantee)), h('td', {}, '')))])),
          section('Weights', table(['Role', 'Weight'],
            (Array.isArray(weights) ? weights : []).map(w => h('tr', { 'data-weight': w.role }, h('td', {}, w.role), h('td', {}, num(w.weight))))))));
    } catch (e) {
      replace(body, errorBox(e));
    }
  }
  load();
}
