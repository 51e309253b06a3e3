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

function madeWith(subscription, key) {
  // Whether the subscription was made with this public key (unknown: taken as yes).
  const held = subscription.options && subscription.options.applicationServerKey;
  if (!held) return true;
  const a = new Uint8Array(held);
  const b = keyBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function renewed(registration, subscription, key) {
  // The deployment's push keys were rotated: push services refuse pushes to a subscription
  // made with the old public key, so swap it for one made with the new key.
  await send("DELETE", { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
  const fresh = await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: keyBytes(key),
  });
  await send("POST", fresh.toJSON());
  return fresh;
}

async function setUp(box) {
  const on = box.querySelector("[data-push-subscribe]");
  const off = box.querySelector("[data-push-unsubscribe]");
  const status = box.querySelector("[data-push-status]");
  const registration = await navigator.serviceWorker.ready;
  const show = (subscribed) => { on.hidden = subscribed; off.hidden = !subscribed; };
  let current = await registration.pushManager.getSubscription();
  if (current && !madeWith(current, box.dataset.vapidKey) && Notification.permission === "granted") {
    try {
      current = await renewed(registration, current, box.dataset.vapidKey);
      status.textContent = "Push notifications were renewed for this device.";
    } catch (error) {
      current = await registration.pushManager.getSubscription();
    }
  }
  show(Boolean(current));
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
