"""Managing practitioners (issue 14, point 4): an administrator finds those whose organisation
is in their councils (nobody else), filters and searches them, deactivates and reactivates
them, grants and removes administrator rights within their own areas, and confirms a vouched
organisation; each change needs a recent sign-in and leaves an audit event."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from models.areas import Area
from models.audit import AuditEvent
from models.auth import Session
from models.practitioners import AdminArea, Practitioner
from tests import support
from tests.web.helpers import csrf_token, sign_in, without_csrf
from web.admin import practitioners_search
from web.app import create_app
from web.core import clock


async def people() -> dict[str, Practitioner]:
    """Grace (local administrator of Brimbank Melton), Morgan (state), Priya and Tom in
    Brimbank, Mele in Melton, Wes in Wyndham (outside Grace's areas)."""
    brimbank = await support.organisation()
    melton = await support.organisation(
        "Melton City Council — Youth Services", "melton.example", area_code="LGA24650"
    )
    wyndham = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    return {
        "grace": await support.local_admin("grace.okafor@brimbank.example", brimbank),
        "morgan": await support.practitioner(
            "Morgan Reid", "morgan.reid@wyndham.example", wyndham, role="state_admin"
        ),
        "priya": await support.practitioner(org=brimbank),
        "tom": await support.practitioner("Tom Walker", "tom.walker@brimbank.example", brimbank),
        "mele": await support.practitioner("Mele Fifita", "mele.fifita@melton.example", melton),
        "wes": await support.practitioner("Wes Brown", "wes.brown@wyndham.example", wyndham),
    }


def names(page: httpx.Response) -> list[str]:
    return re.findall(r'<a href="/admin/practitioners/\d+"><strong>([^<]+)</strong>', page.text)


async def post(client: httpx.AsyncClient, path: str, **data: object) -> httpx.Response:
    token = await csrf_token(client, "/admin/practitioners")
    return await client.post(path, data={"csrf_token": token, **data})  # type: ignore[arg-type]


async def test_a_local_administrator_sees_the_practitioners_of_her_councils_only(client):
    who = await people()
    await sign_in(client, who["grace"])
    page = await client.get("/admin/practitioners")
    assert page.status_code == 200
    assert names(page) == ["Grace Okafor", "Mele Fifita", "Priya Nair", "Tom Walker"]
    assert "Wes Brown" not in page.text and "Morgan Reid" not in page.text
    assert (await client.get(f"/admin/practitioners/{who['wes'].id}")).status_code == 404
    await sign_in(client, who["morgan"])
    page = await client.get("/admin/practitioners")
    assert len(names(page)) == 6
    await sign_in(client, who["priya"])
    assert (await client.get("/admin/practitioners")).status_code == 403


async def test_the_forgiving_search_finds_names_with_typos_and_by_email(client):
    who = await people()
    await sign_in(client, who["grace"])
    for q, expected in (
        ("priya", ["Priya Nair"]),
        ("nair priya", ["Priya Nair"]),
        ("pri", ["Priya Nair"]),
        ("Pryia", ["Priya Nair"]),  # a swap
        ("walkr", ["Tom Walker"]),
        ("fifita", ["Mele Fifita"]),
        ("mele.fifita@melton", ["Mele Fifita"]),
        ("@brimbank.example", ["Grace Okafor", "Priya Nair", "Tom Walker"]),
        ("wes", []),  # Wyndham's: outside her councils
        ("zzzz", []),
    ):
        page = await client.get("/admin/practitioners", params={"q": q})
        assert page.status_code == 200
        assert names(page) == expected, q


async def test_each_filter(client):
    who = await people()
    mia = await support.client()
    sam_org = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    sam = await support.practitioner("Sam Lee", "sam.lee@westsiderecovery.example", sam_org)
    await support.member(mia, who["priya"])
    hidden = await support.member(mia, sam, discreet=True)  # only ever discreet: not a join
    ended = await support.member(await support.client("Leo"), who["tom"])
    ended.ended_at = clock.now()
    await ended.save()  # an ended membership was a join too
    await support.practitioner(
        "Nina New", "nina.new@brimbank.example", signup_step=2
    )  # not signed up yet: not "never joined"
    await Practitioner.filter(id=who["mele"].id).update(organisation_vouched_by_id=who["priya"].id)
    await support.practitioner("Dee Active", "dee@brimbank.example", active=False)
    await sign_in(client, who["grace"])
    for flags, expected in (
        ({"never_joined": "1"}, ["Grace Okafor", "Mele Fifita", "Sam Lee"]),
        ({"awaiting": "1"}, ["Mele Fifita"]),
        ({"deactivated": "1"}, ["Dee Active"]),
        ({"admins": "1"}, ["Grace Okafor"]),
        ({"never_joined": "1", "awaiting": "1"}, ["Mele Fifita"]),
    ):
        page = await client.get("/admin/practitioners", params=flags)
        assert names(page) == expected, flags
    # Whether Sam's discreet membership exists or not, the lists and his card are the same.
    pages = [
        "/admin/practitioners?never_joined=1",
        "/admin/practitioners",
        f"/admin/practitioners/{sam.id}",
    ]
    with_it = [without_csrf((await client.get(path)).text) for path in pages]
    await hidden.delete()
    assert [without_csrf((await client.get(path)).text) for path in pages] == with_it
    # No page here names anyone's clients.
    for path in ("/admin/practitioners", f"/admin/practitioners/{who['priya'].id}"):
        assert "Thompson" not in (await client.get(path)).text


async def test_pages_follow_one_another_by_keyset(client, monkeypatch):
    who = await people()
    monkeypatch.setattr(practitioners_search, "PER_PAGE", 2)
    await sign_in(client, who["grace"])
    seen = []
    page = await client.get("/admin/practitioners")
    while True:
        seen += names(page)
        following = re.search(
            r'href="(/admin/practitioners\?[^"]*after=\d+[^"]*)" rel="next"', page.text
        )
        if not following:
            break
        page = await client.get(following.group(1).replace("&amp;", "&"))
    assert seen == ["Grace Okafor", "Mele Fifita", "Priya Nair", "Tom Walker"]
    # Searching pages the same way.
    seen, page = [], await client.get("/admin/practitioners", params={"q": "@"})
    seen += names(page)
    following = re.search(
        r'href="(/admin/practitioners\?[^"]*after=\d+[^"]*)" rel="next"', page.text
    )
    assert following
    seen += names(await client.get(following.group(1).replace("&amp;", "&")))
    assert seen == ["Grace Okafor", "Mele Fifita", "Priya Nair", "Tom Walker"]


async def test_deactivating_ends_every_session_and_reactivating_lets_them_back(settings, client):
    who = await people()
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    ) as priya_s:
        await sign_in(priya_s, who["priya"])
        assert (await priya_s.get("/")).status_code == 200
        await sign_in(client, who["grace"])
        done = await post(client, f"/admin/practitioners/{who['priya'].id}/deactivate")
        assert done.status_code == 303
        assert (
            done.headers["location"] == f"/admin/practitioners/{who['priya'].id}?done=deactivated"
        )
        assert not await Session.exists(practitioner_id=who["priya"].id)
        assert not (await Practitioner.get(id=who["priya"].id)).active
        signed_out = await priya_s.get("/")
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith(
            "/signin"
        )
        event = await AuditEvent.get(action="admin.changed")
        assert event.detail == {
            "what": "practitioner.deactivated",
            "practitioner_id": who["priya"].id,
            "sessions_ended": 1,
        }
        assert event.actor_id == who["grace"].id  # type: ignore[attr-defined]
        assert event.area_id == (await Area.get(code="LGA21180")).id  # type: ignore[attr-defined]
        card = await client.get(f"/admin/practitioners/{who['priya'].id}?done=deactivated")
        assert "Deactivated" in card.text and "Reactivate Priya Nair" in card.text
        # Again: nothing more happens.
        await post(client, f"/admin/practitioners/{who['priya'].id}/deactivate")
        assert await AuditEvent.filter(action="admin.changed").count() == 1
        back = await post(client, f"/admin/practitioners/{who['priya'].id}/reactivate")
        assert back.status_code == 303
        assert (await Practitioner.get(id=who["priya"].id)).active
        await sign_in(priya_s, who["priya"])
        assert (await priya_s.get("/")).status_code == 200
    whats = (
        await AuditEvent.filter(action="admin.changed")
        .order_by("id")
        .values_list("detail", flat=True)
    )
    assert [d["what"] for d in whats] == ["practitioner.deactivated", "practitioner.reactivated"]  # type: ignore[index]


async def test_what_an_administrator_may_not_change(client):
    who = await people()
    wide = await support.practitioner(  # a local administrator of more than Grace's areas
        "Wide Admin",
        "wide@brimbank.example",
        role="local_admin",
        admin_areas=[await Area.get(code="LGA21180"), await Area.get(code="LGA27260")],
    )
    await sign_in(client, who["grace"])
    before = await support.snapshot()
    for path in ("deactivate", "reactivate", "rights", "rights/remove", "confirm-organisation"):
        # Herself: refused. Wyndham's Wes and Morgan, or nobody at all: not found.
        mine = await post(client, f"/admin/practitioners/{who['grace'].id}/{path}")
        assert mine.status_code == 403 and "your own account" in mine.text
        for other in (who["wes"].id, who["morgan"].id, 2_000_000, 99999999999999999999):
            assert (await post(client, f"/admin/practitioners/{other}/{path}")).status_code == 404
        refused = await post(client, f"/admin/practitioners/{wide.id}/{path}")
        assert refused.status_code == 403 and "beyond yours" in refused.text
    # (Audit rows may only be added: each form's page view is recorded, no change is.)
    assert support.changed(before, await support.snapshot()) == []
    assert not await AuditEvent.filter(action="admin.changed").exists()
    assert "Administrator rights" not in (await client.get(f"/admin/practitioners/{wide.id}")).text
    # A state administrator whose organisation is in her area: seen, never changed.
    await Practitioner.filter(id=who["morgan"].id).update(
        organisation_id=who["priya"].organisation_id  # type: ignore[attr-defined]
    )
    assert (await client.get(f"/admin/practitioners/{who['morgan'].id}")).status_code == 200
    refused = await post(client, f"/admin/practitioners/{who['morgan'].id}/deactivate")
    assert refused.status_code == 403 and "Only a state administrator" in refused.text
    assert (await Practitioner.get(id=who["morgan"].id)).active
    assert not await AuditEvent.filter(action="admin.changed").exists()


async def test_granting_and_removing_administrator_rights_within_her_areas(client):
    who = await people()
    district = await Area.get(code="AU-VIC-D03")
    brimbank, melton, wyndham = [
        await Area.get(code=c) for c in ("LGA21180", "LGA24650", "LGA27260")
    ]
    await sign_in(client, who["grace"])
    card = await client.get(f"/admin/practitioners/{who['tom'].id}")
    assert f'value="{district.id}"' in card.text and f'value="{melton.id}"' in card.text
    assert f'value="{wyndham.id}"' not in card.text and "State administrator:" not in card.text
    path = f"/admin/practitioners/{who['tom'].id}/rights"
    for data, problem in (
        ({"role": "local_admin"}, "Choose at least one area"),
        ({"role": "local_admin", "area_id": str(wyndham.id)}, "only those you look after"),
        ({"role": "local_admin", "area_id": "99999999999999999999"}, "only those you look after"),
        ({"role": "state_admin", "area_id": str(brimbank.id)}, "Choose local administrator"),
        ({"role": "root", "area_id": str(brimbank.id)}, "Choose local administrator"),
    ):
        refused = await post(client, path, **data)
        assert refused.status_code == 422 and problem in refused.text, data
        assert "There is a problem" in refused.text
    assert (await Practitioner.get(id=who["tom"].id)).role == "practitioner"
    granted = await post(
        client, path, role="local_admin", area_id=[str(melton.id), str(brimbank.id)]
    )
    assert granted.status_code == 303
    tom = await Practitioner.get(id=who["tom"].id)
    assert tom.role == "local_admin"
    assert sorted(
        await AdminArea.filter(practitioner_id=tom.id).values_list("area_id", flat=True)
    ) == sorted([melton.id, brimbank.id])
    event = await AuditEvent.get(action="admin.changed")
    assert event.detail["what"] == "practitioner.admin_granted"
    assert event.detail["area_ids"] == sorted([melton.id, brimbank.id])
    removed = await post(client, f"/admin/practitioners/{tom.id}/rights/remove")
    assert removed.status_code == 303
    assert (await Practitioner.get(id=tom.id)).role == "practitioner"
    assert not await AdminArea.exists(practitioner_id=tom.id)
    # A state administrator may make a state administrator.
    await sign_in(client, who["morgan"])
    assert "State administrator:" in (await client.get(f"/admin/practitioners/{tom.id}")).text
    granted = await post(client, f"/admin/practitioners/{tom.id}/rights", role="state_admin")
    assert granted.status_code == 303
    assert (await Practitioner.get(id=tom.id)).role == "state_admin"


async def test_rights_need_an_active_practitioner_with_a_confirmed_organisation(client):
    who = await people()
    melton = await Area.get(code="LGA24650")
    await Practitioner.filter(id=who["mele"].id).update(organisation_vouched_by_id=who["priya"].id)
    await Practitioner.filter(id=who["tom"].id).update(active=False)
    await sign_in(client, who["grace"])
    for person, problem in (("mele", "Confirm their organisation"), ("tom", "Reactivate them")):
        refused = await post(
            client, f"/admin/practitioners/{who[person].id}/rights", area_id=str(melton.id)
        )
        assert refused.status_code == 422 and problem in refused.text


async def test_confirming_a_vouched_organisation(client):
    who = await people()
    await Practitioner.filter(id=who["mele"].id).update(organisation_vouched_by_id=who["priya"].id)
    await sign_in(client, who["grace"])
    card = await client.get(f"/admin/practitioners/{who['mele'].id}")
    assert "Organisation confirmed by invitation from Priya Nair" in card.text
    listed = await client.get("/admin/practitioners", params={"awaiting": "1"})
    assert names(listed) == ["Mele Fifita"]
    done = await post(client, f"/admin/practitioners/{who['mele'].id}/confirm-organisation")
    assert done.status_code == 303
    mele = await Practitioner.get(id=who["mele"].id)
    assert mele.organisation_confirmed_at is not None and not mele.organisation_vouched_only
    event = await AuditEvent.get(action="admin.changed")
    assert event.detail["what"] == "practitioner.organisation_confirmed"
    assert event.area_id == (await Area.get(code="LGA24650")).id  # type: ignore[attr-defined]
    assert names(await client.get("/admin/practitioners", params={"awaiting": "1"})) == []
    # Nothing to confirm the second time.
    again = await post(client, f"/admin/practitioners/{who['mele'].id}/confirm-organisation")
    assert again.headers["location"].endswith("done=unchanged")
    assert await AuditEvent.filter(action="admin.changed").count() == 1


async def test_every_change_asks_for_a_recent_sign_in_and_changes_nothing(client):
    who = await people()
    await Practitioner.filter(id=who["mele"].id).update(organisation_vouched_by_id=who["priya"].id)
    melton = await Area.get(code="LGA24650")
    await sign_in(client, who["grace"])
    token = await csrf_token(client, "/admin/practitioners")
    before = await support.snapshot()
    with clock.shifted(timedelta(minutes=16)):
        for person, path in (
            ("priya", "deactivate"),
            ("priya", "reactivate"),
            ("tom", "rights"),
            ("tom", "rights/remove"),
            ("mele", "confirm-organisation"),
        ):
            url = f"/admin/practitioners/{who[person].id}/{path}"
            asked = await client.post(
                url, data={"csrf_token": token, "role": "local_admin", "area_id": str(melton.id)}
            )
            assert asked.status_code == 403 and "Please sign in again" in asked.text
            assert f"/signin?next=%2Fadmin%2Fpractitioners%2F{who[person].id}" in asked.text
    assert support.changed(before, await support.snapshot(), ledgers=()) == []


async def test_nonsense_is_refused_without_a_server_error(client):
    who = await people()
    await sign_in(client, who["grace"])
    for path in (
        "/admin/practitioners/99999999999999999999999",
        "/admin/practitioners/0",
        "/admin/practitioners?after=99999999999999999999",
        "/admin/practitioners?after=-1&q=%E2%80%8B",
        "/admin/practitioners?q=" + "a" * 5000,
    ):
        page = await client.get(path)
        assert page.status_code in (200, 404), path
    page = await client.get("/admin/practitioners", params={"after": "abc", "never_joined": "yes"})
    assert page.status_code == 200
    refused = await post(
        client, f"/admin/practitioners/{who['tom'].id}/rights", area_id=["x", "1" * 40]
    )
    assert refused.status_code == 422
