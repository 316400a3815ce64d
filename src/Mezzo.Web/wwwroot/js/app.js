// The shell: navigation, a history-API router over /ui/..., and the live-status badge.
import { h, replace, errorBox } from './dom.js';
import * as store from './store.js';
import { overviewPage } from './pages/overview.js';
import { agentsPage, agentPage } from './pages/agents.js';
import { frameworksPage, frameworkPage } from './pages/frameworks.js';
import { tasksPage, taskPage } from './pages/tasks.js';
import { rolesPage } from './pages/roles.js';
import { servicesPage, appPage } from './pages/services.js';
import { jobsPage } from './pages/jobs.js';

const routes = [
  [/^\/ui\/?(overview)?$/, overviewPage],
  [/^\/ui\/agents$/, agentsPage],
  [/^\/ui\/agents\/([^/]+)$/, agentPage],
  [/^\/ui\/frameworks$/, frameworksPage],
  [/^\/ui\/frameworks\/([^/]+)$/, frameworkPage],
  [/^\/ui\/tasks$/, tasksPage],
  [/^\/ui\/tasks\/([^/]+)\/([^/]+)$/, taskPage],
  [/^\/ui\/roles$/, rolesPage],
  [/^\/ui\/services$/, servicesPage],
  [/^\/ui\/services\/apps\/(.+)$/, appPage],
  [/^\/ui\/jobs$/, jobsPage],
];

const nav = [
  ['/ui/overview', 'Overview'],
  ['/ui/agents', 'Agents'],
  ['/ui/frameworks', 'Frameworks'],
  ['/ui/tasks', 'Tasks'],
  ['/ui/roles', 'Roles'],
  ['/ui/services', 'Services', 'services'],
  ['/ui/jobs', 'Jobs', 'jobs'],
];

let cleanup = () => {};

function renderNav({ state }) {
  const path = location.pathname === '/' ? '/ui/overview' : location.pathname;
  replace(document.getElementById('nav'), nav
    // Services and jobs pages appear only while such a framework is registered.
    .filter(([, , kind]) => !kind || store.frameworkOfKind(state, kind))
    .map(([href, label]) => h('a', { href, 'data-link': true, class: path.startsWith(href) ? 'active' : '' }, label)));
}

function route() {
  cleanup();
  cleanup = () => {};
  const view = document.getElementById('view');
  const path = location.pathname === '/' ? '/ui/overview' : location.pathname;
  for (const [pattern, page] of routes) {
    const match = path.match(pattern);
    if (match) {
      replace(view);
      view.dataset.page = page.name.replace(/Page$/, '');
      try {
        const params = match.slice(1).filter(p => p !== undefined && p !== 'overview').map(decodeURIComponent);
        cleanup = page(view, params) ?? (() => {});
      } catch (e) {
        replace(view, errorBox(e));
      }
      renderNav(store.current());
      return;
    }
  }
  replace(view, h('h1', {}, 'Not found'), h('p', {}, `No page at ${path}.`));
}

export function navigate(href) {
  history.pushState(null, '', href);
  route();
}

document.addEventListener('click', event => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);

store.watch(renderNav);
store.start(status => {
  const live = document.getElementById('live');
  live.textContent = status;
  live.className = `live ${status.replaceAll(" ", "-")}`;
});
route();
