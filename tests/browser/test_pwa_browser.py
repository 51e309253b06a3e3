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
