import { h, replace, section, table, badge, num, mb, link, errorBox } from '../dom.js';
import { getJson, sendJson, frameworkUrl } from '../api.js';
import * as store from '../store.js';

const EXAMPLE = {
  id: '/hello',
  cmd: 'while true; do echo hello; sleep 5; done',
  cpus: 0.1,
  mem: 32,
  instances: 1,
};

// Waits for the services framework to be registered, then calls open(framework) once; shows a hint meanwhile.
function withFramework(view, kind, open) {
  let close = null;
  const hint = h('p', { class: 'muted' }, `Waiting for a ${kind} framework to register…`);
  view.append(hint);
  const unwatch = store.watch(({ state }) => {
    const framework = store.frameworkOfKind(state, kind);
    if (framework && !close) {
      hint.remove();
      close = open(framework) ?? (() => {});
    }
  });
  return () => {
    unwatch();
    close?.();
  };
}

// Re-reads on every event from Marathon's own event bus (/v2/events, SSE through the master's framework proxy),
// coalesced to one read per 300 ms.
function followEvents(framework, reload) {
  let timer = null;
  const source = new EventSource(frameworkUrl(framework.id, 'v2/events'));
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 300);
  };
  for (const type of ['deployment_info', 'deployment_success', 'deployment_failed', 'deployment_step_success', 'status_update_event',
    'health_status_changed_event', 'api_post_event', 'app_terminated_event', 'instance_changed_event', 'instance_health_changed_event']) {
    source.addEventListener(type, schedule);
  }
  source.onmessage = schedule;
  return () => {
    clearTimeout(timer);
    source.close();
  };
}

export function servicesPage(view) {
  view.append(h('h1', {}, 'Services'));
  return withFramework(view, 'services', framework => {
    const apps = h('div', {}, 'Loading…');
    const deployments = h('div', {});
    const editor = h('textarea', { id: 'app-json', rows: 10, spellcheck: 'false' }, JSON.stringify(EXAMPLE, null, 2));
    const message = h('div', { id: 'deploy-message' });
    view.append(
      h('p', { class: 'muted' }, 'Framework ', link(`/ui/frameworks/${encodeURIComponent(framework.id)}`, framework.name), ' (Marathon API)'),
      section('Apps', apps),
      section('Deployments', deployments),
      section('Deploy an app',
        h('form', { id: 'deploy-form', onsubmit: async e => {
          e.preventDefault();
          let body;
          try {
            body = JSON.parse(editor.value);
          } catch (err) {
            replace(message, errorBox(`The app definition is not valid JSON: ${err.message}`));
            return;
          }
          try {
            const created = await sendJson('POST', frameworkUrl(framework.id, 'v2/apps'), body);
            replace(message, h('p', { class: 'ok' }, `Deploying ${created?.id ?? body.id}.`));
            reload();
          } catch (err) {
            replace(message, errorBox(err));
          }
        } }, editor, h('div', {}, h('button', { type: 'submit', id: 'deploy' }, 'Deploy'))), message));

    async function reload() {
      // Someone is typing a scale count: re-rendering now would throw their input away, so wait for them.
      if (apps.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') {
        setTimeout(reload, 1000);
        return;
      }
      try {
        const [appList, deploymentList] = await Promise.all([
          getJson(frameworkUrl(framework.id, 'v2/apps?embed=apps.counts&embed=apps.deployments')),
          getJson(frameworkUrl(framework.id, 'v2/deployments')),
        ]);
        replace(apps, table(['App', 'Instances', 'Running', 'Healthy', 'Staged', 'CPUs', 'Memory', 'Status', ''],
          (appList.apps ?? []).map(app => appRow(framework, app, reload))));
        replace(deployments, deploymentTable(framework, deploymentList ?? [], reload));
      } catch (err) {
        replace(apps, errorBox(err));
      }
    }
    reload();
    return followEvents(framework, reload);
  });
}

function appStatus(app) {
  if (app.deployments?.length) return 'DEPLOYING';
  if (app.instances === 0) return 'SUSPENDED';
  if (app.tasksUnhealthy > 0) return 'UNHEALTHY';
  return app.tasksRunning >= app.instances ? 'RUNNING' : 'WAITING';
}

function scaleForm(framework, app, reload) {
  const input = h('input', { type: 'number', min: 0, value: app.instances, class: 'narrow', 'aria-label': `instances of ${app.id}` });
  return h('form', { class: 'inline scale', onsubmit: async e => {
    e.preventDefault();
    try {
      await sendJson('PUT', frameworkUrl(framework.id, `v2/apps${app.id}`), { instances: Number(input.value) });
      reload();
    } catch (err) {
      alert(err.message);
    }
  } }, input, h('button', { type: 'submit' }, 'Scale'));
}

function appRow(framework, app, reload) {
  return h('tr', { 'data-app': app.id },
    h('td', {}, link(`/ui/services/apps${app.id}`, app.id)),
    h('td', { class: 'instances' }, app.instances),
    h('td', { class: 'running' }, app.tasksRunning ?? 0),
    h('td', {}, app.tasksHealthy ?? 0),
    h('td', {}, app.tasksStaged ?? 0),
    h('td', {}, num(app.cpus)),
    h('td', {}, mb(app.mem)),
    h('td', {}, badge(appStatus(app))),
    h('td', { class: 'actions' },
      scaleForm(framework, app, reload),
      h('button', { class: 'small', onclick: async () => {
        try {
          await sendJson('POST', frameworkUrl(framework.id, `v2/apps${app.id}/restart`), {});
          reload();
        } catch (err) {
          alert(err.message);
        }
      } }, 'Restart'),
      h('button', { class: 'small danger', onclick: async () => {
        if (!confirm(`Destroy ${app.id} and kill its tasks?`)) return;
        try {
          await sendJson('DELETE', frameworkUrl(framework.id, `v2/apps${app.id}`));
          reload();
        } catch (err) {
          alert(err.message);
        }
      } }, 'Destroy')));
}

function deploymentTable(framework, list, reload) {
  return table(['Deployment', 'Apps', 'Progress', 'Actions', ''],
    list.map(d => {
      const p = d.totalSteps ? (100 * (d.currentStep - 1)) / d.totalSteps : 0;
      return h('tr', { 'data-deployment': d.id },
        h('td', {}, h('code', {}, d.id)),
        h('td', {}, (d.affectedApps ?? []).join(', ')),
        h('td', {}, h('div', { class: 'bar-track', title: `step ${d.currentStep} of ${d.totalSteps}` }, h('div', { class: 'bar-fill', style: `width:${p}%` })),
          h('span', { class: 'muted' }, `step ${d.currentStep} / ${d.totalSteps}`)),
        h('td', {}, (d.currentActions ?? []).map(a => `${a.action} ${a.app}`).join(', ')),
        h('td', {}, h('button', { class: 'small', onclick: async () => {
          try {
            await sendJson('DELETE', frameworkUrl(framework.id, `v2/deployments/${encodeURIComponent(d.id)}`));
            reload();
          } catch (err) {
            alert(err.message);
          }
        } }, 'Roll back')));
    }));
}

export function appPage(view, [appPath]) {
  const appId = `/${appPath}`;
  view.append(h('h1', {}, 'App ', h('code', {}, appId)));
  return withFramework(view, 'services', framework => {
    const body = h('div', {}, 'Loading…');
    view.append(body);
    async function reload() {
      try {
        const [{ app }, { tasks }] = await Promise.all([
          getJson(frameworkUrl(framework.id, `v2/apps${appId}`)),
          getJson(frameworkUrl(framework.id, `v2/apps${appId}/tasks`)),
        ]);
        replace(body,
          section('App', h('dl', {},
            h('dt', {}, 'Status'), h('dd', {}, badge(appStatus(app))),
            h('dt', {}, 'Instances'), h('dd', {}, `${app.tasksRunning ?? 0} running of ${app.instances}`),
            h('dt', {}, 'Scale'), h('dd', {}, scaleForm(framework, app, reload)),
            h('dt', {}, 'Version'), h('dd', {}, app.version ?? ''),
            h('dt', {}, 'Command'), h('dd', {}, h('code', {}, app.cmd ?? '')))),
          section('Instances', table(['Task', 'Host', 'Ports', 'State', 'Health', 'Started'],
            (tasks ?? []).map(t => h('tr', { 'data-instance': t.id },
              h('td', {}, link(`/ui/tasks/${encodeURIComponent(framework.id)}/${encodeURIComponent(t.id)}`, t.id)),
              h('td', {}, t.host),
              h('td', {}, (t.ports ?? []).join(', ')),
              h('td', {}, badge(t.state ?? '')),
              h('td', {}, (t.healthCheckResults ?? []).length
                ? badge(t.healthCheckResults.every(r => r.alive) ? 'HEALTHY' : 'UNHEALTHY')
                : h('span', { class: 'muted' }, 'no checks')),
              h('td', {}, t.startedAt ?? ''))))),
          section('Definition', h('pre', { class: 'json' }, JSON.stringify(app, null, 2))));
      } catch (err) {
        replace(body, errorBox(err));
      }
    }
    reload();
    return followEvents(framework, reload);
  });
}
