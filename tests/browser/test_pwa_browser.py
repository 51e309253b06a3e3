"""The installed app keeps nothing personal on the device, and says so when it is offline."""

from __future__ import annotations

import pytest

from models.attentions import Attention
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import sign_in_as

pytestmark = pytest.mark.browser

#: Everything a page's origin may keep on the device: both web storages, every Cache Storage
#: entry (address and body) and the names of IndexedDB databases.
DEVICE_STORAGE = """async () => {
  const kept = [];
  for (const store of [localStorage, sessionStorage]) {
    for (let i = 0; i < store.length; i++) kept.push(store.key(i), store.getItem(store.key(i)));
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      kept.push(request.url, await (await cache.match(request)).text());
    }
  }
  for (const db of (indexedDB.databases ? await indexedDB.databases() : [])) kept.push(db.name);
  return kept.join("\\n");
}"""


async def test_browsing_teams_leaves_no_name_on_the_device_and_offline_says_so(
    open_page, live_server
):
    priya, aroha, sam, mia = await support.thompson_team()
    await Attention.create(client=mia, raised_by=aroha, text="Missed two appointments")
    page = await open_page()
    await sign_in_as(page, live_server, priya)
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    for path in (
        f"/clients/{mia.id}",
        f"/clients/{mia.id}/attentions",
        f"/clients/{mia.id}/circle",
        f"/clients/{mia.id}/history",
        "/clients/search?q=mia+thompson",
        "/people?q=aroha",
        "/notifications",
    ):
        await page.goto(live_server.url(path))
        await axe(page)
    await page.go_back()  # history restores fetch the page again: nothing kept to restore from
    await axe(page)
    kept = await page.evaluate(DEVICE_STORAGE)
    assert "/static/app.css" in kept  # the shell is cached, so the search below means something
    for personal in ("Mia", "Thompson", "Mimi", "Priya", "Aroha", "Ngata", "Sam Lee", "Missed"):
        assert personal not in kept, f"{personal!r} is kept on the device"

    await page.context.set_offline(True)
    await page.goto(live_server.url(f"/clients/{mia.id}"))
    await page.get_by_role("heading", name="You are offline").wait_for()
    await axe(page)
    assert "Mia" not in await page.content()
    await page.context.set_offline(False)


SAFARI_ON_AN_IPHONE = """Object.defineProperty(navigator, "userAgent", {get: () =>
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"});"""

FAKE_INSTALL_PROMPT = """() => {
  const offer = new Event("beforeinstallprompt", {cancelable: true});
  offer.prompt = () => { window.prompted = true; };
  offer.userChoice = Promise.resolve({outcome: "accepted"});
  window.dispatchEvent(offer);
}"""


async def test_install_patchwork_where_the_browser_offers_it_and_a_hint_on_ios(
    open_page, live_server
):
    priya = await support.practitioner()
    page = await open_page()
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url("/profile"))
    await axe(page)
    section = page.locator("section.install")
    button = section.get_by_role("button", name="Install Patchwork")
    assert not await button.is_visible()  # nothing offered yet: the general hint
    assert await section.get_by_text("In your browser's menu").is_visible()
    await page.evaluate(FAKE_INSTALL_PROMPT)  # what Chromium fires when it can install
    await button.wait_for(state="visible")
    assert not await section.get_by_text("In your browser's menu").is_visible()
    await button.click()
    assert await page.evaluate("window.prompted === true")

    # Safari on an iPhone fires no install event: it gets the "Add to Home Screen" hint.
    iphone = await open_page(init_script=SAFARI_ON_AN_IPHONE)
    await sign_in_as(iphone, live_server, priya)
    await iphone.goto(live_server.url("/profile"))
    await axe(iphone)
    hint = iphone.locator("section.install").get_by_text("On an iPhone or iPad")
    assert await hint.is_visible()
    assert not await iphone.get_by_text("In your browser's menu").is_visible()
    assert not await iphone.get_by_role("button", name="Install Patchwork").is_visible()
