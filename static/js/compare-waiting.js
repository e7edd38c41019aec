// The compare page while its models train: it opens once the last of them is served.
const notice = document.getElementById("compare-waiting");
const missing = new Set(JSON.parse(notice.dataset.missing));
window.addEventListener("atlas:model", (event) => {
  missing.delete(event.detail.model.id);
  if (missing.size === 0) location.reload(); // the three maps are built from the server's page
});
