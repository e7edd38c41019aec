// Following training jobs: one job's events (EventSource, which resumes after a dropped connection by
// itself), and the home's queue, one running job at a time, so a page holds a single stream open.
import * as api from "./api.js";

const IDLE_POLL_MS = 5000; // with no job to follow, how often to look for a new one

// The events a job sends, in order, and those that end it, as the server names them (model/records.py,
// carried by the page's body).
const jobEvents = () => JSON.parse(document.body.dataset.jobEvents);

// Calls on.started(data), on.epoch(data) for every epoch so far and each new one, then on.end(data)
// once; returns the EventSource (close() it to stop following).
function watchJob(id, on) {
  const { types, ended } = jobEvents();
  const source = new EventSource(api.jobEventsUrl(id));
  const handle = (type) => (message) => {
    const data = JSON.parse(message.data);
    if (ended.includes(type)) {
      source.close();
      on.end?.(data);
    } else {
      on[type]?.(data);
    }
  };
  for (const type of types) source.addEventListener(type, handle(type));
  return source;
}

// The map after each epoch so far, in the shape of /api/models/{id}/snapshots (lab-figures' input).
export function liveSnapshots(started, epochs) {
  return {
    label: started.label,
    epochs: epochs.map((e) => e.epoch),
    x: epochs.map((e) => e.x),
    y: epochs.map((e) => e.y),
  };
}

// Follows the queue: on.change(jobs) whenever it changes, on.event(job, type, data) for the running
// job's events, on.finished(job, data) when a job ends. Returns a function that stops following.
export function followQueue(on) {
  let source = null;
  let following = null;
  let stopped = false;
  let idle = null;
  const refresh = async () => {
    clearTimeout(idle);
    if (stopped) return;
    let jobs;
    try {
      jobs = await api.listJobs();
    } catch {
      idle = setTimeout(refresh, IDLE_POLL_MS); // the server is away (restarting): look again later
      return;
    }
    on.change?.(jobs);
    const running = jobs.find((job) => job.state === "running") ?? jobs.find((job) => job.state === "queued");
    if (!running) {
      idle = setTimeout(refresh, IDLE_POLL_MS); // a job may be queued elsewhere: another tab, another page
      return;
    }
    if (running.id === following) return;
    source?.close();
    following = running.id;
    source = watchJob(running.id, {
      started: (data) => on.event?.(running, "started", data),
      epoch: (data) => on.event?.(running, "epoch", data),
      end: async (data) => {
        following = null;
        await on.finished?.(running, data);
        await refresh();
      },
    });
  };
  refresh();
  return {
    refresh,
    stop: () => {
      stopped = true;
      clearTimeout(idle);
      source?.close();
    },
  };
}
