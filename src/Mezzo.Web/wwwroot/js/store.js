// The cluster as the UI knows it: the master's /master/state, refetched when the operator event stream says
// something changed (coalesced: at most one fetch in flight and one per 500 ms), plus the master's last hour of usage
// samples (/mezzo/usage) for the chart, so a page opened now draws the whole hour.
import { getJson, subscribeEvents } from './api.js';

const listeners = new Set();
let state = null;
let error = null;
let fetching = false;
let again = false;
let lastFetch = 0;
let timer = null;
const eventListeners = new Set();

export const SAMPLE_INTERVAL_MS = 10000;
let samples = [];

export function current() {
  return { state, error, samples };
}

// Calls fn(now) at once if state is there, and after every change; returns the unsubscribe.
export function watch(fn) {
  listeners.add(fn);
  if (state || error) fn(current());
  return () => listeners.delete(fn);
}

export function onEvent(fn) {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

function notify() {
  for (const fn of [...listeners]) {
    try {
      fn(current());
    } catch (e) {
      console.error(e);
    }
  }
}

export function refresh() {
  if (fetching) {
    again = true;
    return;
  }
  const wait = Math.max(0, lastFetch + 500 - Date.now());
  if (wait > 0) {
    clearTimeout(timer);
    timer = setTimeout(refresh, wait);
    return;
  }
  fetching = true;
  lastFetch = Date.now();
  getJson('/master/state')
    .then(s => { state = s; error = null; })
    .catch(e => { error = e; })
    .finally(() => {
      fetching = false;
      notify();
      if (again) {
        again = false;
        refresh();
      }
    });
}

async function sample() {
  try {
    const usage = await getJson('/mezzo/usage');
    samples = usage.samples.map(u => ({ t: u.time * 1000, cpus: u.cpus, mem: u.mem, disk: u.disk }));
    notify();
  } catch (e) {
    console.warn('usage samples:', e);
  }
}

export function start(onStatus) {
  refresh();
  sample();
  setInterval(sample, SAMPLE_INTERVAL_MS);
  subscribeEvents(event => {
    if (event.type !== 'HEARTBEAT') refresh();
    for (const fn of [...eventListeners]) fn(event);
  }, onStatus);
}

// Every task the master knows, active and completed, with its framework.
export function allTasks(s) {
  const tasks = [];
  for (const framework of [...(s?.frameworks ?? []), ...(s?.completed_frameworks ?? [])]) {
    for (const task of [...framework.tasks, ...(framework.unreachable_tasks ?? []), ...framework.completed_tasks]) {
      tasks.push({ ...task, framework_name: framework.name });
    }
  }
  return tasks;
}

export function findTask(s, frameworkId, taskId) {
  return allTasks(s).find(t => t.framework_id === frameworkId && t.id === taskId);
}

// The registered framework that serves a Marathon (services) or Chronos (jobs) API, if any.
export function frameworkOfKind(s, kind) {
  const pattern = kind === 'services' ? /marathon|services/i : /chronos|jobs/i;
  return (s?.frameworks ?? []).find(f => f.webui_url && pattern.test(f.name));
}
