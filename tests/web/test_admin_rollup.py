"""The overview's stored figures (issue 18, item 4): the worker counts each council again every
few minutes; a large selection reads those counts and says how old they are, a small one is
counted live; stored and live counts give the same page, discreet-member rule included."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from models.areas import CouncilFigures
from models.audit import AuditEvent
from tests import support
from tests.web.helpers import sign_in
from tests.web.test_admin_dashboard import cells, everything, grace, world
from web.admin import dashboard_figures
from web.core import clock, council_figures


def squeezed(html: str) -> str:
    return re.sub(r"\s+", " ", html)


async def figures_page(client) -> str:
    page = await client.get("/admin")
    assert page.status_code == 200
    return page.text


async def discreet_world():
    """The dashboard tests' world, with four discreet memberships in Brimbank (fewer than the
    five a cell needs) and five in Wyndham."""
    priya, clients = await world()
    westside = await support.organisation("Westside Recovery", "westside.example", sensitive=True)
    far = await support.council("LGA27260")
    for i in range(5):
        sam = await support.practitioner(f"Sam {i}", f"sam{i}@westside.example", westside)
        if i < 4:
            await support.member(clients[i], sam, discreet=True)
        await support.member(await support.client(f"Far{i}", "Away", area=far), sam, discreet=True)
    return priya, clients


async def test_stored_figures_are_the_live_ones_and_say_how_old(client, monkeypatch):
    await discreet_world()
    state = await support.practitioner("Morgan State", "morgan@vic.example", role="state_admin")
    await sign_in(client, state)
    live = await everything(client)
    assert "Figures as of" not in live[0]
    assert await council_figures.refresh_due() > 70  # every council
    monkeypatch.setattr(dashboard_figures, "LIVE_UP_TO", -1)  # every council from the store
    with support.count_queries() as reading:
        kept = await everything(client)
    assert not any("WITH mm AS" in str(q) for q in reading.queries)
    stamp = re.compile(r'<p class="meta">Figures as of \d\d:\d\d: they are counted again [^<]+</p>')
    assert stamp.search(kept[0]) and stamp.search(kept[3])  # both pages; the CSVs have none
    # Pages and CSVs, all councils and one, figure for figure.
    assert [squeezed(stamp.sub("", seen)) for seen in kept] == [squeezed(s) for s in live]
    wyndham = dict(zip(*[cells(kept[0], "By council")[0], next(
        r for r in cells(kept[0], "By council") if r[0] == "Wyndham")], strict=True))  # fmt: skip
    assert wyndham["Joins, last 30 days"] == "6"  # Tom's one and the five discreet


async def test_a_small_selection_is_counted_live_and_a_large_one_waits(client, monkeypatch):
    priya, clients = await world()
    admin = await grace()
    await council_figures.refresh_due()
    await sign_in(client, admin)
    before = cells(await figures_page(client), "By council")
    await support.member(await support.client("New", "Brim"), priya)
    live = cells(await figures_page(client), "By council")
    assert live != before  # small: counted as the page asked, the new team shown at once
    monkeypatch.setattr(dashboard_figures, "LIVE_UP_TO", -1)
    page = await figures_page(client)
    assert cells(page, "By council") == before and "Figures as of" in page
    await council_figures.refresh_due(older_than=timedelta(0))
    assert cells(await figures_page(client), "By council") == live


async def test_counts_of_another_span_of_months_are_counted_live(client, monkeypatch):
    await world()
    admin = await grace()
    await council_figures.refresh_due()
    await sign_in(client, admin)
    expected = cells(await figures_page(client), "By council")
    await CouncilFigures.all().update(first_month="2001-01", cells={})
    monkeypatch.setattr(dashboard_figures, "LIVE_UP_TO", -1)
    page = await figures_page(client)
    assert "Figures as of" not in page and cells(page, "By council") == expected


async def test_the_worker_counts_a_council_again_only_when_its_counts_are_old():
    await world()
    councils = await council_figures.refresh_due()
    assert councils == await CouncilFigures.all().count() > 70
    assert await council_figures.refresh_due() == 0
    brimbank = await support.council("LGA21180")
    old = clock.now() - council_figures.REFRESH_AFTER - timedelta(seconds=1)
    await CouncilFigures.filter(area_id=brimbank.id).update(counted_at=old)
    assert await council_figures.refresh_due() == 1
    row = await CouncilFigures.get(area_id=brimbank.id)
    assert row.memberships == 10 and row.cells["v_members"] == 10 and row.counted_at > old


async def test_an_administrator_without_councils_still_sees_retention(client):
    await AuditEvent.create(at=clock.now(), action="job.retention", detail={"clients": 2})
    lonely = await support.practitioner("Lone Admin", "lone@brimbank.example", role="local_admin")
    await sign_in(client, lonely)
    page = await figures_page(client)
    assert "You do not look after any council areas yet." in page
    assert "removed 2 clients" in page


def month_turn() -> datetime:
    """The next turn of a month in the deployment's zone whose 30 days before are not within
    an hour of now (the "last 30 days" figures then read the same either side of it)."""
    local = clock.local_now()
    for ahead in range(1, 4):
        year, month = divmod(local.year * 12 + local.month - 1 + ahead, 12)
        turn = local.replace(year=year, month=month + 1, day=1, hour=0, minute=0, second=0,
                             microsecond=0)  # fmt: skip
        if abs(turn - timedelta(days=30) - local) > timedelta(hours=1):
            return turn
    raise AssertionError("unreachable")


async def test_counts_from_before_the_month_turned_are_carried_over(client, monkeypatch):
    """In the minutes after a month turns, before the worker has counted again, the stored
    counts are read with each month one place earlier and the new month as it stood: the same
    page as a live count (nothing changed meanwhile), from the store, with its time."""
    await discreet_world()
    state = await support.practitioner("Morgan State", "morgan@vic.example", role="state_admin")
    turn = month_turn()
    with clock.shifted(turn - timedelta(minutes=2) - clock.local_now()):
        assert await council_figures.refresh_due(older_than=timedelta(0)) > 70
    with clock.shifted(turn + timedelta(minutes=2) - clock.local_now()):
        await sign_in(client, state)  # a session of a month ago would have ended
        live = await everything(client)
        monkeypatch.setattr(dashboard_figures, "LIVE_UP_TO", -1)
        with support.count_queries() as reading:
            kept = await everything(client)
    assert not any("WITH mm AS" in str(q) for q in reading.queries)
    assert "Figures as of 23:58" in kept[0]
    stamp = re.compile(r'<p class="meta">Figures as of \d\d:\d\d: they are counted again [^<]+</p>')
    assert [squeezed(stamp.sub("", seen)) for seen in kept] == [squeezed(s) for s in live]
