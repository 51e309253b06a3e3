"""Administration in a real browser (issue 14): Grace Okafor, local administrator for Brimbank
Melton, sees her councils' figures and nobody else's, manages practitioners and reads the audit
log; a state administrator sees the whole deployment; Priya, a practitioner, is refused. At a
phone's 390 px and a desktop's 1180 px, axe-clean, no sideways scrolling."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from models.auth import Session
from models.practitioners import Practitioner
from models.teams import Membership
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import from_profile_on_a_phone, no_sideways_scroll, sign_in_as
from web.core import clock

pytestmark = pytest.mark.browser

#: Clients with a team in each council (five or more, so every figure is shown as a number).
TEAMS = {"LGA21180": 6, "LGA24650": 7, "LGA27260": 9}  # Brimbank, Melton, Wyndham


async def network() -> dict[str, Practitioner]:
    """Practitioners and teams in Brimbank, Melton and Wyndham; Grace and Morgan."""
    people: dict[str, Practitioner] = {}
    for code, teams in TEAMS.items():
        council = await support.council(code)
        org = await support.organisation(
            f"{council.name} Council — Maternal & Child Health",
            f"{code.lower()}.example",
            area_code=code,
        )
        nurse = await support.practitioner(
            f"Nurse {council.name}", f"nurse@{code.lower()}.example", org
        )
        people[code] = nurse
        for n in range(teams):
            await support.member(await support.client(f"Kid{n}", council.name, area=council), nurse)
    people["grace"] = await support.local_admin("grace.okafor@brimbank.example")
    people["morgan"] = await support.practitioner(
        "Morgan Reid", "morgan.reid@brimbank.example", role="state_admin"
    )
    people["priya"] = await support.practitioner()
    return people


async def figures_table(page) -> list[list[str]]:
    rows = page.locator("table.dashboard-table tr")
    found = []
    for i in range(await rows.count()):
        cells = rows.nth(i).locator("th, td")
        found.append(
            [(await cells.nth(j).inner_text()).strip() for j in range(await cells.count())]
        )
    return found


async def admin_tab(page, name: str) -> None:
    """Follow a link of the administration pages' own navigation."""
    await (
        page.get_by_role("navigation", name="Administration").get_by_role("link", name=name).click()
    )


async def open_admin(page, width: int) -> None:
    await (await from_profile_on_a_phone(page, "link", "Administration")).click()
    await page.get_by_role("heading", name="Overview", level=1).wait_for()
    await axe(page)
    await no_sideways_scroll(page, width)


async def test_grace_sees_her_councils_figures_and_manages_her_area(open_page, live_server):
    people = await network()
    page = await open_page(width=390)
    await sign_in_as(page, live_server, people["grace"])
    await open_admin(page, 390)

    table = await figures_table(page)
    councils = [row[0] for row in table[1:-1]]
    assert "Brimbank" in councils and "Melton" in councils
    assert "Wyndham" not in councils and "Wyndham" not in await page.content()
    # The table agrees with the database: clients with a team, per council.
    column = table[0].index("Clients with a team")
    by_name = {row[0]: row[column] for row in table[1:]}
    assert by_name["Brimbank"] == "6" and by_name["Melton"] == "7"
    assert table[-1][column] == "13"
    # A growth chart is drawn on the server, with its table beside it.
    assert await page.locator("svg.chart[role=img]").count() >= 3
    # The CSV download is the table.
    link = page.get_by_role("link", name="Download these figures (CSV)")
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    async with httpx.AsyncClient(base_url=live_server.base_url, cookies=cookies) as http:
        answer = await http.get(await link.get_attribute("href"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(answer.text))) == table

    # Only Melton.
    await page.get_by_label("Council", exact=True).select_option(label="Melton")
    await page.get_by_role("button", name="Show figures").click()
    await page.get_by_role("heading", name="Figures for Melton").wait_for()
    await axe(page)
    assert [row[0] for row in (await figures_table(page))[1:-1]] == ["Melton"]

    # Practitioners: find Brimbank's nurse and deactivate them; Wyndham's is not there.
    await admin_tab(page, "Practitioners")
    await page.get_by_role("heading", name="Practitioners", level=1).wait_for()
    await axe(page)
    await no_sideways_scroll(page, 390)
    await page.get_by_label("Name or email").fill("nurse brimbnk")
    await page.get_by_label("Name or email").press("Enter")
    await page.get_by_role("link", name="Nurse Brimbank").click()
    await page.get_by_role("heading", name="Nurse Brimbank", level=1).wait_for()
    await axe(page)
    await page.get_by_role("button", name="Deactivate Nurse Brimbank").click()
    await page.get_by_role("button", name="Reactivate Nurse Brimbank").wait_for()
    await axe(page)
    nurse = await Practitioner.get(id=people["LGA21180"].id)
    assert not nurse.active

    # Organisations: hers, not Wyndham's.
    await admin_tab(page, "Organisations")
    await page.get_by_role("heading", name="Organisations", level=1).wait_for()
    await axe(page)
    await no_sideways_scroll(page, 390)
    assert "Brimbank Council" in await page.content()
    assert "Wyndham Council" not in await page.content()

    # The audit log shows what she just did, and who looked at a client.
    await admin_tab(page, "Audit log")
    await page.get_by_role("heading", name="Audit log", level=1).wait_for()
    await axe(page)
    await no_sideways_scroll(page, 390)
    assert "practitioner.deactivated" in await page.locator("#audit-results").inner_text()
    membership = await Membership.filter(practitioner=people["LGA21180"]).first()
    await page.get_by_label("Client id").fill(str(membership.client_id))  # type: ignore[attr-defined]
    await page.get_by_role("button", name="Show events").click()
    await page.get_by_role(
        "heading",
        name=f"Client {membership.client_id}: who viewed or searched for them",  # type: ignore[attr-defined]
    ).wait_for()
    await axe(page)

    # Invitations in her area.
    await admin_tab(page, "Invitations")
    await page.get_by_role("heading", name="Invite a colleague to Patchwork").wait_for()
    await axe(page)

    # On a desktop, the same pages.
    wide = await open_page(width=1180, height=820)
    await sign_in_as(wide, live_server, people["grace"])
    await open_admin(wide, 1180)
    for name, heading in (("Organisations", "Organisations"), ("Audit log", "Audit log")):
        await admin_tab(wide, name)
        await wide.get_by_role("heading", name=heading, level=1).wait_for()
        await axe(wide)


async def test_a_state_administrator_sees_every_council(open_page, live_server):
    people = await network()
    for width in (390, 1180):
        page = await open_page(width=width)
        await sign_in_as(page, live_server, people["morgan"])
        await open_admin(page, width)
        table = await figures_table(page)
        councils = [row[0] for row in table[1:-1]]
        assert {"Brimbank", "Melton", "Wyndham"} <= set(councils)
        column = table[0].index("Clients with a team")
        assert table[-1][column] == str(sum(TEAMS.values()))


async def test_priya_is_refused_and_sees_no_administration(page, live_server):
    people = await network()
    await sign_in_as(page, live_server, people["priya"])
    assert await page.get_by_role("link", name="Administration").count() == 0
    await from_profile_on_a_phone(page, "link", "Help")  # where an administrator would find it
    assert await page.get_by_role("link", name="Administration").count() == 0
    await page.goto(live_server.url("/admin"))
    await page.get_by_text("This page is for administrators.").wait_for()
    await axe(page)
    await page.goto(live_server.url("/admin/audit"))
    await page.get_by_text("This page is for administrators.").wait_for()
    await axe(page)


async def test_a_change_after_15_minutes_asks_for_a_sign_in_and_returns_to_the_form(
    page, live_server, smtp
):
    people = await network()
    await sign_in_as(page, live_server, people["grace"])
    nurse = people["LGA24650"]
    await page.goto(live_server.url(f"/admin/practitioners/{nurse.id}"))
    await page.get_by_role("heading", name=nurse.name, level=1).wait_for()
    await axe(page)
    # Her sign-in is now 16 minutes old.
    await Session.all().update(authenticated_at=clock.now() - timedelta(minutes=16))
    await page.get_by_role("button", name=f"Deactivate {nurse.name}").click()
    await page.get_by_role("heading", name="Please sign in again").wait_for()
    await axe(page)
    assert (await Practitioner.get(id=nurse.id)).active
    await page.get_by_role("link", name="Sign in again").click()
    await page.get_by_label("Work email address").fill(people["grace"].email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await axe(page)
    [message] = await smtp.mailbox.wait_for(people["grace"].email)
    await page.goto(support.link_in(message))
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name=nurse.name, level=1).wait_for()
    await axe(page)
    await page.get_by_role("button", name=f"Deactivate {nurse.name}").click()
    await page.get_by_role("button", name=f"Reactivate {nurse.name}").wait_for()
    await axe(page)
    assert not (await Practitioner.get(id=nurse.id)).active
