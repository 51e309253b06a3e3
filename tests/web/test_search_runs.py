"""Search as you type: a run of refinements of one query counts once against the hourly limit,
every step audited; anything that is not a step of a fresh run counts as a new search."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from models.audit import AuditEvent
from models.auth import RateLimitHit
from models.practitioners import PractitionerArea
from tests import support
from tests.web.helpers import sign_in
from web.core import clock
from web.core.search_runs import RUN_SECONDS, RUN_STEPS


async def typed(client, text: str, previous=None):
    """One as-you-type request, as htmx sends the form: the run and `after` of the last
    results ride along (they are form fields of the results)."""
    params = {"q": text, "born": ""}
    if previous is not None:
        found = re.search(r'name="run" value="([^"]+)"', previous.text)
        after = re.search(r'name="after" value="([^"]*)"', previous.text)
        if found and after:
            params |= {"run": found.group(1), "after": unescape(after.group(1))}
    return await client.get("/clients/search", params=params, headers={"hx-request": "true"})


async def counted(priya) -> int:
    return await RateLimitHit.filter(key=f"search:{priya.id}").count()


async def test_typing_a_name_counts_once_and_every_step_is_audited(client):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council("LGA21180"))
    await support.client("Mia", "Thompson")
    await sign_in(client, priya)
    previous = None
    for text in ("mia t", "mia th", "mia tho", "mia thom", "mia tho", "mia thompson"):
        previous = await typed(client, text, previous)
        assert previous.status_code == 200
    assert "Mia Thompson" in previous.text
    assert await counted(priya) == 1
    steps = await AuditEvent.filter(action="client.searched", actor_id=priya.id).count()
    assert steps == 6


async def test_a_new_query_a_stale_run_or_a_long_one_counts_again(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    first = await typed(client, "mia th")
    other = await typed(client, "tom wa", first)  # not a refinement of "mia th"
    assert await counted(priya) == 2
    forged = await client.get(
        "/clients/search",
        params={"q": "tom wal", "run": "x.y", "after": "tom wa"},
        headers={"hx-request": "true"},
    )
    assert forged.status_code == 200 and await counted(priya) == 3
    with clock.shifted(timedelta(seconds=RUN_SECONDS + 1)):
        await typed(client, "tom wal", other)  # the run is over
    assert await counted(priya) == 4
    previous = await typed(client, "ab cd")
    assert await counted(priya) == 5
    for n in range(RUN_STEPS):
        previous = await typed(client, "ab cd" + "e" * (n + 1), previous)
    assert await counted(priya) == 5
    await typed(client, "ab cd" + "e" * (RUN_STEPS + 1), previous)  # one step too many
    assert await counted(priya) == 6
