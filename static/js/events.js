// The pages' events, named once with what each carries (the event's detail). Page modules talk through
// these rather than through each other's state: one module says what happened, any other may listen.
export const EVENTS = Object.freeze({
  queue: "atlas:queue", // { jobs }: the training queue, each time it changes (live-models.js)
  job: "atlas:job", // { job, type, data }: the running job's events, from its first (live-models.js)
  model: "atlas:model", // { job, model }: a model a job finished, served and in the picker (live-models.js)
  refresh: "atlas:refresh", // {}: a page queued or cancelled a job: look at the queue again
  mapShown: "atlas:map-shown", // { model, map, dataset }: the explorer drew a model's map (explorer-map.js)
  viewMoved: "atlas:view-moved", // {}: the explorer's map was zoomed or panned (explorer-map.js)
  viewSaved: "atlas:view-saved", // { model, points, plane, ranges, pins, selection, path }: the view the URL keeps
  hovered: "atlas:hovered", // { x, y }: the map point whose image was just decoded under the cursor
  pointClicked: "atlas:point-clicked", // { x, y, position, label }: a point of the map clicked in zoom mode
  focus: "atlas:focus", // { point, label }: the image last pinned or drawn (as the API names an image)
  groups: "atlas:groups", // { model }: the selections kept for a model changed (selection.js)
});

// Say that `name` happened, with its detail.
export function emit(name, detail = {}) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

// Call `handler(detail)` each time `name` happens; returns a function that stops listening.
export function listen(name, handler) {
  const listener = (event) => handler(event.detail);
  window.addEventListener(name, listener);
  return () => window.removeEventListener(name, listener);
}
