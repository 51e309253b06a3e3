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

// "More" menus are <details>: without this file they open and close in place. With it, a tap
// elsewhere or Escape closes an open one, as a menu should.
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = document.activeElement?.closest("details.menu[open]");
  if (menu) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
});
