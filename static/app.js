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

// "Install Patchwork": the button shows only where the browser offers to install (Chromium's
// beforeinstallprompt); iOS Safari has no such event, so it gets its "Add to Home Screen" hint.
// Without this file the general hint shows. Installed already: the section says nothing more.
let installPrompt = null;
const installed = matchMedia("(display-mode: standalone)").matches || navigator.standalone;
const ios = /iphone|ipad|ipod/i.test(navigator.userAgent)
  || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
document.documentElement.classList.add(installed ? "installed" : ios ? "install-ios" : "install-other");
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  installPrompt = event;
  document.documentElement.classList.replace("install-other", "install-ready");
});
document.addEventListener("click", async (event) => {
  if (!event.target.closest("[data-install]") || !installPrompt) return;
  installPrompt.prompt();
  await installPrompt.userChoice;
  installPrompt = null;
  document.documentElement.classList.replace("install-ready", "install-other");
});
window.addEventListener("appinstalled", () => document.documentElement.classList.add("installed"));
