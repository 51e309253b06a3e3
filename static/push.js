// Push notifications: subscribe this browser (only on a button press) and unsubscribe.
// The server keeps PushSubscription.toJSON(); the service worker shows what arrives.

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

function keyBytes(base64url) {
  const base = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base + "===".slice((base.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function send(method, subscription) {
  const response = await fetch("/push/subscriptions", {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(subscription),
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error("The server did not accept this device.");
}

async function setUp(box) {
  const on = box.querySelector("[data-push-subscribe]");
  const off = box.querySelector("[data-push-unsubscribe]");
  const status = box.querySelector("[data-push-status]");
  const registration = await navigator.serviceWorker.ready;
  const show = (subscribed) => { on.hidden = subscribed; off.hidden = !subscribed; };
  show(Boolean(await registration.pushManager.getSubscription()));
  box.hidden = false;
  document.documentElement.classList.add("push");

  on.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = "Notifications are blocked for this site in your browser settings.";
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(box.dataset.vapidKey),
      });
      await send("POST", subscription.toJSON());
      show(true);
      status.textContent = "Push notifications are on for this device.";
    } catch (error) {
      status.textContent = `Could not turn on push notifications: ${error.message}`;
    }
  });

  off.addEventListener("click", async () => {
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) {
      await send("DELETE", { endpoint: subscription.endpoint });
      await subscription.unsubscribe();
    }
    show(false);
    status.textContent = "Push notifications are off for this device.";
  });
}

const box = document.querySelector(".needs-push");
if (box && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
  setUp(box);
}
