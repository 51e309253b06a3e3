// Patchwork service worker: caches only the static app shell and the offline page.
// Pages with personal data are never cached (they are sent with Cache-Control: no-store).
const VERSION = "__VERSION__";
const CACHE = `patchwork-shell-${VERSION}`;
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  } else if (request.mode === "navigate") {
    // Network only for pages; when offline, the cached offline page (no personal data).
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  }
});

// Web push: the payload names no one ({kind, count, title, url}); show a generic notification.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  const title = "A team you're on has changed";
  const body = data.count > 1 ? `${data.count} updates. Sign in to see what changed.` : "Sign in to see what changed.";
  event.waitUntil(self.registration.showNotification(title, {
    body,
    tag: "patchwork",
    icon: SHELL.find((path) => path.includes("icon")),
    data: { url: "/notifications" },
  }));
});

// Clicking a notification focuses an open Patchwork window on /notifications, or opens one.
async function openNotifications(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (new URL(client.url).origin === self.location.origin) {
      await client.focus().catch(() => {});
      return client.navigate(url);
    }
  }
  return self.clients.openWindow(url);
}
self.openNotifications = openNotifications;

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openNotifications((event.notification.data && event.notification.data.url) || "/notifications"));
});
