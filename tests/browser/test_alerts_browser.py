"""Alerts in Chromium: a push reaches the service worker, which shows a notification naming
no one; clicking through lands on /notifications. Subscribing from the profile. Attentions."""

from __future__ import annotations

import asyncio
import json

import pytest

from models.attentions import Attention
from models.notifications import PushSubscription
from models.practitioners import Practitioner
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import sign_in_as

pytestmark = pytest.mark.browser


async def test_a_push_shows_a_generic_notification_and_clicking_opens_notifications(
    page, live_server
):
    priya, aroha, _sam, mia = await support.thompson_team()
    origin = live_server.base_url
    await page.context.grant_permissions(["notifications"], origin=origin)
    cdp = await page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if r["scopeURL"].startswith(origin)
        ),
    )
    await cdp.send("ServiceWorker.enable")
    await sign_in_as(page, live_server, priya)
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    for _ in range(100):
        if registrations and await page.evaluate("navigator.serviceWorker.controller !== null"):
            break
        await asyncio.sleep(0.05)
    payload = json.dumps(
        {
            "kind": "joined",
            "count": 1,
            "title": "A team you're on has changed",
            "url": "/notifications",
        }
    )
    # A push delivered while the worker is still activating can be dropped: deliver again
    # until it shows (the notification's tag makes a repeat replace, not add).
    titles: list[str] = []
    for _ in range(10):
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registrations[-1], "data": payload},
        )
        for _ in range(40):
            titles = await page.evaluate(
                "navigator.serviceWorker.ready.then(r => r.getNotifications())"
                ".then(ns => ns.map(n => n.title + '|' + n.body))"
            )
            if titles:
                break
            await asyncio.sleep(0.05)
        if titles:
            break
    assert titles == ["A team you're on has changed|Sign in to see what changed."]

    [worker] = [w for w in page.context.service_workers if w.url.startswith(origin)]
    await worker.evaluate("self.openNotifications('/notifications')")  # what a click does
    await page.get_by_role("heading", name="Notifications").wait_for()
    await axe(page)
    assert page.url.endswith("/notifications")


SUBSCRIPTION = {
    "endpoint": "http://127.0.0.1:9/push/browser",
    "keys": {
        "p256dh": "BLaCaxxSv-BnQHM6u023wdK93r9_m5nMqow2MdlcjGQSwOZHxNExUZFUha5u0"
        "roMGKTb-kOGobI5AuruI5Hl7LU",
        "auth": "c2VjcmV0LWF1dGgtMTIzNA",
    },
}
# Chromium cannot subscribe for real here (no vendor push service): hand back a subscription.
FAKE_PUSH = f"""
(() => {{
  const json = {json.dumps(SUBSCRIPTION)};
  let current = null;
  const fake = {{ endpoint: json.endpoint, toJSON: () => json,
                 unsubscribe: async () => {{ current = null; return true; }} }};
  PushManager.prototype.subscribe = async function () {{ current = fake; return fake; }};
  PushManager.prototype.getSubscription = async function () {{ return current; }};
}})();
"""


async def test_turning_push_on_and_off_from_the_profile(open_page, live_server):
    priya = await support.practitioner()
    page = await open_page(init_script=FAKE_PUSH)
    await page.context.grant_permissions(["notifications"], origin=live_server.base_url)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_role("heading", name="Your profile").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Turn on push notifications on this device").click()
    await page.get_by_text("Push notifications are on for this device.").wait_for()
    await axe(page)
    subscription = await PushSubscription.get(practitioner=priya)
    assert subscription.endpoint == SUBSCRIPTION["endpoint"]
    await page.get_by_role("button", name="Turn off push notifications on this device").click()
    await page.get_by_text("Push notifications are off for this device.").wait_for()
    assert not await PushSubscription.filter(practitioner=priya).exists()

    await page.get_by_label("Straight away").nth(1).check()  # email
    await page.locator("#notify_email-digest").check()
    await page.get_by_role("button", name="Save alert choices").click()
    await page.get_by_text("Your alert choices are saved.").wait_for()
    await axe(page)
    assert await page.locator("#notify_email-digest").is_checked()
    assert (await Practitioner.get(id=priya.id)).notify_email == "digest"


async def test_a_device_subscribed_with_rotated_push_keys_is_renewed_on_the_profile(
    open_page, live_server
):
    """After VAPID keys are rotated, push services refuse pushes to subscriptions made with
    the old public key: opening Profile swaps this device's for one made with the new key."""
    priya = await support.practitioner()
    old = {**SUBSCRIPTION, "endpoint": "http://127.0.0.1:9/push/old-key"}
    await PushSubscription.create(
        practitioner=priya, endpoint=old["endpoint"], p256dh=old["keys"]["p256dh"],
        auth=old["keys"]["auth"],
    )  # fmt: skip
    stale = f"""
(() => {{
  const fresh = {json.dumps(SUBSCRIPTION)};
  const old = {json.dumps(old)};
  const made = (json, key) => ({{ endpoint: json.endpoint, toJSON: () => json,
    options: {{ applicationServerKey: key }},
    unsubscribe: async () => {{ current = null; return true; }} }});
  let current = made(old, new Uint8Array(65).fill(7).buffer);  // another key's subscription
  PushManager.prototype.subscribe = async function (options) {{
    current = made(fresh, options.applicationServerKey.buffer); return current; }};
  PushManager.prototype.getSubscription = async function () {{ return current; }};
}})();
"""
    page = await open_page(init_script=stale)
    await page.context.grant_permissions(["notifications"], origin=live_server.base_url)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_text("Push notifications were renewed for this device.").wait_for()
    await axe(page)
    endpoints = await PushSubscription.filter(practitioner=priya).values_list("endpoint", flat=True)
    assert endpoints == [SUBSCRIPTION["endpoint"]]
    await page.get_by_role("button", name="Turn off push notifications on this device").wait_for()


async def test_raising_an_attention_alerts_the_rest_of_the_team(open_page, live_server):
    priya, aroha, _sam, mia = await support.thompson_team()
    page = await open_page(width=320)
    await sign_in_as(page, live_server, aroha)
    await page.goto(live_server.url(f"/clients/{mia.id}/attentions"))
    await axe(page)
    await page.get_by_label("What should the team talk about?").fill(
        "Missed two appointments — please call me"
    )
    await page.get_by_label("Category (optional)").select_option("concern")
    await page.get_by_role("button", name="Raise the attention").click()
    await page.get_by_text("Concern: Missed two appointments").wait_for()
    await axe(page)
    [attention] = await Attention.filter(client=mia)
    assert attention.text == "Missed two appointments — please call me"
    assert (attention.category, attention.raised_by_id, attention.named) == (
        "concern",
        aroha.id,
        True,
    )

    other = await open_page(width=820)
    await sign_in_as(other, live_server, priya)
    await other.locator("#unread-badge").wait_for()
    assert (await other.locator("#unread-badge").inner_text()).startswith("1")
    await other.get_by_role("link", name="Alerts").click()
    await other.get_by_role("heading", name="Notifications").wait_for()
    await axe(other)
    await other.get_by_role("link", name="Mia Thompson").click()
    await other.get_by_text("seen by 2 of 2").wait_for()
    await axe(other)
    await other.get_by_role("link", name="Resolve…").click()
    await other.get_by_role("heading", name="Resolve this attention?").wait_for()
    await axe(other)
    await other.get_by_role("button", name="Resolve the attention").click()
    await other.get_by_text("Nothing open.").wait_for()
    await axe(other)
    attention = await Attention.get(id=attention.id)
    assert attention.resolved_at is not None and attention.resolved_by_id == priya.id
