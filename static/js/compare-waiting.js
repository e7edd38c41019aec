// The compare page while its models train: once the last of them is served, the page's main part is
// fetched again (now with the three maps) and compare.js starts on it, without a reload.
import { guarded } from "./ui.js";
import { EVENTS, listen } from "./events.js";

const notice = document.getElementById("compare-waiting");
const missing = new Set(JSON.parse(notice.dataset.missing));

async function open() {
  const response = await fetch(location.href);
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  document.querySelector("main").replaceWith(page.querySelector("main"));
  await import("./compare.js");
}

listen(EVENTS.model, ({ model }) => {
  missing.delete(model.id);
  if (missing.size === 0) guarded(open);
});
