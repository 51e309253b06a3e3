"""Issue 18, item 6: a DEPLOYMENT=UK-PILOTS deployment end to end, set up the way an IT team
would (`load-areas`, `add-organisation`), then used: English councils and legal bases,
en-GB words, Europe/London times, and nothing Victorian.

The suite's database holds Victoria's areas for every other test, so this module swaps them
for England's while it runs and puts them back (same ids) afterwards."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from models.areas import Area
from models.attentions import Attention
from models.clients import Client
from models.notifications import Outbox
from models.teams import Membership
from tests import conftest, support
from tests.conftest import empty_database
from tests.web.helpers import csrf_token, sign_in
from web import commands
from web.app import create_app
from web.core import clock, references
from web.core.areas import forget_area_tree
from web.core.legal_bases import legal_bases
from web.core.settings import Settings, load
from web.core.wording import wording

STAFFORD, CANNOCK = "E07000197", "E07000192"
LONDON = ZoneInfo("Europe/London")
#: Words only a Victorian deployment may show.
VICTORIAN = (
    "Victoria",
    "Melbourne",
    "DFFH",
    "vic.gov.au",
    "Brimbank",
    "LGA2",
    "Child Information Sharing Scheme",
    "Children, Youth and Families Act",
    "Family Violence Information Sharing",
    "03 9249",
)


async def _areas_only(keep: list[Area]) -> None:
    """Empty everything, then hold exactly `keep` (explicit ids) or the UK file's areas."""
    await empty_database()
    while await Area.exists():  # leaves first: a parent's RESTRICT is checked row by row
        parents = await Area.filter(parent_id__isnull=False).values_list("parent_id", flat=True)
        await Area.exclude(id__in=set(parents)).delete()
    forget_area_tree()
    if keep:
        await Area.bulk_create(keep)
        forget_area_tree()


@pytest.fixture
async def uk(db: str, smtp: support.SmtpServer) -> AsyncIterator[Settings]:
    victoria = [
        Area(id=a.id, code=a.code, name=a.name, kind=a.kind, parent_id=a.parent_id)  # type: ignore[attr-defined]
        for a in await Area.all().order_by("id")
    ]
    zone = clock.zone().key
    await _areas_only([])
    loaded = await commands.print_loaded_areas("UK-PILOTS")  # what `load-areas` runs
    assert loaded[STAFFORD].kind == "council" and loaded["E92000001"].name == "England"
    try:
        yield load(
            conftest.test_environ(
                db, smtp.url, "http://testserver", DEPLOYMENT="UK-PILOTS", TIME_ZONE="Europe/London"
            )
        )
    finally:
        await _areas_only(victoria)
        clock.set_time_zone(zone)


@pytest.fixture
async def http(uk: Settings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(uk), client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    ) as client:
        yield client


def assert_english(html: str, where: str) -> None:
    for word in VICTORIAN:
        assert word not in html, (where, word)


async def test_a_uk_pilot_is_set_up_and_used_in_english_on_london_time(http, uk):
    made, problem = await commands.create_organisation(
        "Staffordshire Children's Services", STAFFORD, ["staffs.example"], False, "Family Services"
    )
    assert made is not None, problem
    health, _ = await commands.create_organisation(
        "Cannock Health Visiting", CANNOCK, ["cannockhv.example"], False, "Health"
    )
    assert health is not None
    ellie = await support.practitioner(
        "Ellie Barnes", "ellie.barnes@staffs.example", made, job_title="Social Worker"
    )
    hannah = await support.practitioner(
        "Hannah Patel", "hannah.patel@cannockhv.example", health, job_title="Health Visitor"
    )
    await sign_in(http, ellie)
    assert clock.zone().key == "Europe/London"  # create_app took TIME_ZONE

    # Adding a client: England's councils and England's legal bases, nothing of Victoria's.
    form = (await http.get("/clients/new", params={"q": "Ruby Clarke"})).text
    assert_english(form, "/clients/new")
    councils = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', form)
    assert "Stafford" in councils and "Brighton and Hove" in councils
    assert set(councils) <= {a.name for a in await Area.filter(kind="council")}
    offered = legal_bases("UK-PILOTS")
    assert "Children Act 1989, section 47 (child protection enquiries)" in offered.values()
    assert re.findall(r'<option value="([a-z][^"]*)"', form) == list(offered)
    stafford = await Area.get(code=STAFFORD)
    token = await csrf_token(http, "/clients/new")
    details = {
        "given_name": "Ruby",
        "family_name": "Clarke",
        "other_names": "",
        "birth": "year",
        "birth_year": str(clock.today().year - 3),
        "area_id": str(stafford.id),
        "sharing_basis": "legal",
        "confirmed": "yes",
        "csrf_token": token,
    }
    refused = await http.post("/clients/new", data={**details, "legal_basis": "ciss"})
    assert refused.status_code == 422  # a Victorian scheme is no basis in England
    added = await http.post("/clients/new", data={**details, "legal_basis": "ca1989-s47"})
    assert added.status_code == 303, added.text
    ruby = await Client.get(family_name="Clarke")
    assert (ruby.area_id, ruby.legal_basis) == (stafford.id, "ca1989-s47")  # type: ignore[attr-defined]
    team = (await http.get(f"/clients/{ruby.id}")).text
    assert "Ruby Clarke" in team and "Children Act 1989, section 47" in team
    assert_english(team, "team page")

    # A health visitor finds and joins the team, and raises an attention.
    http.cookies.clear()
    await sign_in(http, hannah)
    found = (await http.get("/clients/search", params={"q": "ruby clarke"})).text
    assert_english(found, "search")
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", found)
    assert headings == ["In your areas", "Elsewhere in Staffordshire", "Elsewhere in England"]
    county = await http.get("/clients/search", params={"q": "ruby clarke", "show": "district"})
    assert f"/clients/{ruby.id}/join" in county.text  # Stafford is in Cannock's county
    link = references.join_url(uk.secret_key, hannah.id, ruby.id)
    ref = references.client_reference(uk.secret_key, hannah.id, ruby.id)
    assert (await http.get(link)).status_code == 200
    token = await csrf_token(http, link)
    joined = await http.post(
        f"/clients/{ruby.id}/join",
        data={"role": "Health Visitor", "working_with": "yes", "ref": ref, "csrf_token": token},
    )
    assert joined.status_code == 303 and await Membership.filter(client=ruby).count() == 2
    raised = await http.post(
        f"/clients/{ruby.id}/attentions",
        data={"text": "Missed the 2-year review", "csrf_token": token},
    )
    assert raised.status_code == 303 and await Attention.filter(client=ruby).exists()

    # A meeting at 14:30 is 14:30 in London (13:30 UTC in summer time, 14:30 in winter).
    day = clock.today() + timedelta(days=7)
    arranged = await http.post(
        f"/clients/{ruby.id}/meeting",
        data={
            "date": day.isoformat(),
            "time": "14:30",
            "minutes": "30",
            "place": "Stafford Children's Centre",
            "agenda": "",
            "csrf_token": token,
        },
    )
    assert arranged.status_code == 303, arranged.text
    mails = [m for m in await Outbox.filter(recipient=ellie.email) if m.attachments]
    ics = mails[0].attachments[0]["content"]
    start = datetime.combine(day, time(14, 30), LONDON).astimezone(UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in ics

    # What Ellie then sees: the attention, her dashboard, all in English; times in London's.
    http.cookies.clear()
    await sign_in(http, ellie)
    for path in ("/", f"/clients/{ruby.id}", f"/clients/{ruby.id}/attentions", "/notifications"):
        page = await http.get(path)
        assert page.status_code == 200, path
        assert_english(page.text, path)
    attentions = (await http.get(f"/clients/{ruby.id}/attentions")).text
    assert "Missed the 2-year review" in attentions
    attention = await Attention.get(client=ruby)
    shown = clock.as_local(attention.created_at)
    assert f"{shown.hour % 12 or 12}:{shown:%M}" in attentions  # London's clock face


def test_the_words_that_differ_per_deployment_are_english_for_the_pilots():
    english, victorian = wording("UK-PILOTS"), wording("AU-VIC")
    assert english.lang == "en-GB" and victorian.lang == "en-AU"
    assert "vic.gov.au" not in english.work_email_example
    assert not english.desk_phone_example.startswith("03")


async def test_the_pages_themselves_say_en_gb(http):
    for path in ("/signin", "/signup"):
        page = (await http.get(path)).text
        assert f'lang="{wording("UK-PILOTS").lang}"' in page
        assert_english(page, path)
