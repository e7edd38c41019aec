// Latent arithmetic: the attribute vector mean(A) - mean(B) of two groups' encodings (classes, or
// selections kept as groups) added to a digit with a strength; the strip runs from 0 to that strength.
import * as api from "./api.js";
import { EVENTS, listen } from "./events.js";
import { namedGroups } from "./selection.js";
import { digitImage, guarded, latestOnly } from "./ui.js";

const $ = (id) => document.getElementById(id);
const state = { model: null, classNames: [], target: null }; // target: { to, label } chosen by the user

// A select's value -> the API's group ("class:<name>" or "group:<name>") and, for a kept selection, its
// first member.
function groupOf(value) {
  const [kind, name] = [value.slice(0, value.indexOf(":")), value.slice(value.indexOf(":") + 1)];
  if (kind === "class") return { label: name };
  const group = namedGroups(state.model).find((g) => g.name === name);
  return { indices: group.indices, split: group.split };
}
const firstOf = (value) => namedGroups(state.model).find((g) => `group:${g.name}` === value)?.first;

function fillGroups(select, chosen) {
  const options = [
    ...state.classNames.map((name) => new Option(`class ${name}`, `class:${name}`)),
    ...namedGroups(state.model).map((g) => new Option(`group ${g.name} (${g.indices.length})`, `group:${g.name}`)),
  ];
  select.replaceChildren(...options);
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
}

// Without a chosen digit: B's own most typical digit (a class) or first member (a group).
function target() {
  if (state.target) return state.target;
  const b = groupOf($("arithmetic-b").value);
  if (b.label !== undefined) return { to: { label: b.label }, label: `the most typical ${b.label}` };
  const first = firstOf($("arithmetic-b").value);
  return { to: first, label: `${first.split} ${first.index}, the group's first` };
}

const apply = latestOnly(() =>
  guarded(async () => {
    const model = state.model;
    const strength = Number($("arithmetic-strength").value);
    const { to, label } = target();
    const body = { a: groupOf($("arithmetic-a").value), b: groupOf($("arithmetic-b").value), to, strength, steps: 7 };
    const result = await api.latentArithmetic(model, body);
    if (model !== state.model) return;
    $("arithmetic-strip").replaceChildren(
      ...result.images.map((src, i) => digitImage(src, `strength ${result.strengths[i].toFixed(2)}`, true)),
    );
    $("arithmetic-status").textContent =
      `${label} + s × (mean of A's ${result.a_count} − mean of B's ${result.b_count}), s from 0 to ${strength}; ` +
      `|vector| = ${result.norm.toFixed(2)}`;
    $("arithmetic-strip").dataset.strength = String(strength);
  }),
);

// Two groups are needed: an unlabelled data set has none until two selections are kept.
function showPanel() {
  const usable = state.classNames.length + namedGroups(state.model).length >= 2;
  $("arithmetic-panel").hidden = !usable;
  return usable;
}

// A new model: classes as groups, its kept selections after them; A = the second class, B = the first.
function loadArithmetic(model, classNames) {
  Object.assign(state, { model, classNames, target: null });
  fillGroups($("arithmetic-a"), `class:${classNames[1]}`);
  fillGroups($("arithmetic-b"), `class:${classNames[0]}`);
  if (showPanel()) apply();
}

export function init() {
  listen(EVENTS.mapShown, ({ model, map }) => loadArithmetic(model, map.class_names));
  listen(EVENTS.groups, ({ model }) => {
    if (model !== state.model) return;
    const [a, b] = [$("arithmetic-a").value, $("arithmetic-b").value];
    fillGroups($("arithmetic-a"), a);
    fillGroups($("arithmetic-b"), b);
    if (showPanel() && !(a && b)) apply();
  });
  // A pinned or drawn image becomes the one the vector is added to.
  listen(EVENTS.focus, ({ point, label }) => {
    state.target = { to: point, label };
    if (!$("arithmetic-panel").hidden) apply();
  });
  for (const id of ["arithmetic-a", "arithmetic-b"]) $(id).addEventListener("change", () => apply());
  $("arithmetic-strength").addEventListener("input", () => {
    $("arithmetic-strength-value").textContent = $("arithmetic-strength").value;
    apply();
  });
}
