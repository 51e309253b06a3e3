"""The dashboard by council area (issue 14, points 2 and 7): figures per council and in
total, growth charts with their tables and CSV, a fixed number of queries whatever the size,
refusals for areas outside one's own, and no figure that moves for one discreet member."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from models.areas import Area
from models.attentions import Attention
from models.audit import AuditEvent
from tests import support
from tests.web.helpers import sign_in
from web.core import clock


async def grace():
    return await support.local_admin("grace.okafor@mav.example")


async def world():
    """Brimbank: Priya and Aroha on six clients' teams; Wyndham (not Grace's): Tom on one."""
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    await support.practitioner("Nina New", "nina.new@brimbank.example")  # never joined
    wyndham = await support.organisation("Wyndham Youth", "wyndham.example", area_code="LGA27260")
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example", wyndham)
    clients = [await support.client(f"Kid{i}", "Brim") for i in range(6)]
    for i, kid in enumerate(clients):
        await support.member(kid, priya, started_at=clock.now() - timedelta(days=100))
        if i < 4:
            await support.member(kid, aroha)
    await Attention.create(client=clients[0], raised_by=priya, text="Meeting?")
    far = await support.client("Far", "Away", area=await support.council("LGA27260"))
    await support.member(far, tom)
    return priya, clients


def cells(html: str, caption: str) -> list[list[str]]:
    table = html.split(f"<caption>{caption}</caption>")[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).replace("&#39;", "'").strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]  # fmt: skip
        for row in rows
    ]


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_grace_sees_brimbank_and_melton_and_nobody_else(client):
    await world()
    await sign_in(client, await grace())
    page = await client.get("/admin")
    assert page.status_code == 200
    table = cells(page.text, "By council")
    assert [row[0] for row in table] == ["Council", "Brimbank", "Melton", "Total"]
    heading, brimbank = table[0], dict(zip(table[0], table[1], strict=True))
    assert brimbank["Active practitioners"] == "4"  # Priya, Aroha, Nina, Grace
    assert brimbank["Clients with a team"] == "6"
    assert brimbank["Average team size"] == "1.7"
    assert brimbank["Joins, last 30 days"] == "fewer than 5"  # Aroha's four
    assert brimbank["Open attentions"] == "fewer than 5"
    assert brimbank["Signed up, never joined a team"] == "fewer than 5"
    assert table[-1][1:] == table[1][1:]  # Melton has nothing yet
    assert "Wyndham" not in page.text and "Far" not in page.text
    assert "Retention has not run yet." in page.text
    assert await AuditEvent.filter(action="admin.viewed").count() == 1
    figures = await client.get("/admin/figures.csv")
    assert figures.headers["content-type"].startswith("text/csv")
    assert parsed(figures.text) == table and len(heading) == 10


async def test_growth_tables_match_their_csv_and_the_charts(client):
    priya, _clients = await world()
    await sign_in(client, await grace())
    page = (await client.get("/admin")).text
    for key, caption in (
        ("practitioners", "Active practitioners signed up by the month&#39;s end, as a table"),
        ("teams", "Clients with a team at the month&#39;s end, as a table"),
        ("joins", "Joins in the month, as a table"),
    ):
        table = cells(page, caption)
        assert len(table) == 13
        assert parsed((await client.get(f"/admin/growth.csv?series={key}")).text) == table
        chart = page.split(f'id="chart-{key}-desc">')[1].split("</desc>")[0]
        assert chart == "; ".join(f"{month}: {value}" for month, value in table[1:])
    teams = cells(page, "Clients with a team at the month&#39;s end, as a table")
    assert teams[-1][1] == "6" and teams[1][1] == "0"
    assert 'role="img"' in page and "<script" not in page.split("<main")[1]
    everything = parsed((await client.get("/admin/growth.csv")).text)
    assert everything[0][0] == "Month" and len(everything[0]) == 4


async def test_one_council_and_refusals(client):
    await world()
    await sign_in(client, await grace())
    brimbank = await support.council("LGA21180")
    wyndham = await support.council("LGA27260")
    district = await Area.get(code="AU-VIC-D03")
    one = await client.get(f"/admin?council={brimbank.id}")
    assert [r[0] for r in cells(one.text, "By council")] == ["Council", "Brimbank", "Total"]
    both = await client.get(f"/admin?district={district.id}&council={brimbank.id}")
    assert both.status_code == 200
    fragment = await client.get(f"/admin?council={brimbank.id}", headers={"hx-request": "true"})
    assert "<html" not in fragment.text and "By council" in fragment.text
    for query, status in (
        (f"council={wyndham.id}", 404),
        (f"district={wyndham.parent_id}", 404),  # type: ignore[attr-defined]
        ("council=99999999999", 404),
        ("council=" + "9" * 40, 400),
        ("district=abc", 400),
        ("council=-1", 400),
        ("council=１２", 400),
    ):
        for path in ("/admin", "/admin/figures.csv", "/admin/growth.csv"):
            answer = await client.get(f"{path}?{query}")
            assert answer.status_code == status, (path, query, answer.status_code)
    assert (await client.get("/admin/growth.csv?series=nope")).status_code == 404


async def test_a_state_administrator_sees_every_council_and_a_practitioner_is_refused(client):
    priya, _ = await world()
    state = await support.practitioner("Morgan State", "morgan@vic.example", role="state_admin")
    await sign_in(client, state)
    page = await client.get("/admin")
    names = [r[0] for r in cells(page.text, "By council")]
    assert "Wyndham" in names and "Brimbank" in names and len(names) > 70
    client.cookies.clear()
    await sign_in(client, priya)
    assert (await client.get("/admin")).status_code == 403
    assert (await client.get("/admin/figures.csv")).status_code == 403


async def test_retention_last_run_is_shown(client):
    await AuditEvent.create(
        at=clock.now(), action="job.retention",
        detail={"clients": 3, "memberships": 9, "attentions": 2, "circle_links": 1,
                "search_postings": 12, "notifications": 0},
    )  # fmt: skip
    await sign_in(client, await grace())
    page = (await client.get("/admin")).text
    assert (
        "Retention last ran on" in page
        and "removed 3 clients (2 attentions, 1 circle links" in page
    )


def observed(html: str) -> str:
    return re.sub(r'content="[^"]+"|value="[^"]{20,}"', "", html.split("<main")[1])


async def everything(client) -> list[str]:
    brimbank = await support.council("LGA21180")
    seen = []
    for query in ("", f"?council={brimbank.id}"):
        seen.append(observed((await client.get(f"/admin{query}")).text))
        seen.append((await client.get(f"/admin/figures.csv{query}")).text)
        seen.append((await client.get(f"/admin/growth.csv{query}")).text)
    return seen


async def test_one_discreet_member_moves_no_figure(client):
    priya, clients = await world()
    await sign_in(client, await grace())
    before = await everything(client)
    westside = await support.organisation("Westside Recovery", "westside.example", sensitive=True)
    sam = await support.practitioner("Sam Lee", "sam.lee@westside.example", westside)
    after_signup = await everything(client)  # Sam counts as a practitioner: that is not hidden
    lonely = await support.client("Only", "Discreet")
    for target in (clients[0], lonely):  # on a team with others, and alone
        membership = await support.member(target, sam, discreet=True)
        membership.checkin_requested_at = clock.now()
        await membership.save()
        assert await everything(client) == after_signup
        await membership.delete()
    ended = await support.member(clients[1], sam, discreet=True, ended_at=clock.now())
    assert await everything(client) == after_signup
    await ended.delete()
    assert before != after_signup


async def test_five_discreet_memberships_are_counted(client):
    _priya, clients = await world()
    westside = await support.organisation("Westside Recovery", "westside.example", sensitive=True)
    for i in range(5):
        sam = await support.practitioner(f"Sam {i}", f"sam{i}@westside.example", westside)
        await support.member(clients[i], sam, discreet=True)
    await sign_in(client, await grace())
    brimbank = dict(zip(*cells((await client.get("/admin")).text, "By council")[:2], strict=True))
    assert brimbank["Joins, last 30 days"] == "9"  # Aroha's four and the five discreet


async def test_the_number_of_queries_does_not_grow_with_the_deployment(client):
    priya, _ = await world()
    await sign_in(client, await grace())
    await client.get("/admin")
    with support.count_queries() as small:
        assert (await client.get("/admin")).status_code == 200
    for i in range(60):
        kid = await support.client(f"More{i}", "Brim", area=await support.council("LGA24650"))
        await support.member(kid, priya)
        await Attention.create(client=kid, raised_by=priya, text="More")
    with support.count_queries() as large:
        assert (await client.get("/admin")).status_code == 200
    assert len(large.queries) == len(small.queries) <= 16, large.queries
