// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js-enabled");

// htmx 4 sends requests with fetch: add this page's CSRF token to every one.
document.addEventListener("htmx:config:request", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.ctx.request.headers["X-CSRF-Token"] = meta.content;
});

// The app shell and offline page only; the worker never caches personal data.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
