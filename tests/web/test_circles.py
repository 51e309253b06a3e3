"""Circles: link two of your own clients, see each other's teams, and both teams are told."""

from __future__ import annotations

from datetime import date

from models.audit import AuditEvent
from models.circles import CircleLink
from models.notifications import Notification, Outbox
from tests import support
from tests.web.helpers import csrf_token, sign_in


async def link(client, practitioner, from_client, other, relationship):
    await sign_in(client, practitioner)
    path = f"/clients/{from_client.id}/circle"
    token = await csrf_token(client, path)
    return await client.post(
        path, data={"csrf_token": token, "other": str(other.id), "relationship": relationship}
    )


async def test_a_member_links_their_own_client_and_both_teams_are_told(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    response = await link(client, priya, mia, leo, "sibling")
    assert response.status_code == 303

    stored = await CircleLink.get()
    assert (stored.client_a_id, stored.client_b_id) == (mia.id, leo.id)
    told = {n.practitioner_id: n for n in await Notification.filter(kind="circle_linked")}
    assert set(told) == {aroha.id, sam.id, tom.id}  # everyone on either team but Priya, once
    assert told[tom.id].url == f"/clients/{leo.id}/circle"
    assert told[aroha.id].url == f"/clients/{mia.id}/circle"
    emails = [o.body for o in await Outbox.filter(channel="email")]
    assert emails and not any("Mia" in e or "Leo" in e or "Priya" in e for e in emails)
    assert await AuditEvent.filter(action="circle.linked", actor_id=priya.id).exists()


async def test_each_side_reads_the_relationship_its_own_way(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    jade = await support.client("Jade", birth_date=date(1994, 1, 9))
    await support.member(jade, priya)
    await link(client, priya, mia, jade, "parent")  # Jade is Mia's parent

    page = (await client.get(f"/clients/{mia.id}/circle")).text
    assert "Jade Thompson" in page and "Parent" in page
    page = (await client.get(f"/clients/{jade.id}/circle")).text
    assert "Mia Thompson" in page and "Child" in page


async def test_the_other_team_shows_with_view_or_join_but_never_a_discreet_member(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await link(client, priya, mia, leo, "sibling")

    await sign_in(client, tom)  # on Leo's team, not Mia's
    page = (await client.get(f"/clients/{leo.id}/circle")).text
    assert "Mia Thompson" in page
    assert "Priya Nair" in page and "Aroha Ngata" in page
    assert "Sam Lee" not in page and "Westside" not in page
    assert f'href="/clients/{mia.id}/join?ref=' in page

    await sign_in(client, priya)  # on both
    page = (await client.get(f"/clients/{mia.id}/circle")).text
    assert "Tom Walker" in page and f'href="/clients/{leo.id}"' in page


async def test_a_linked_team_seen_on_a_circle_is_audited_under_its_own_client(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await link(client, priya, mia, leo, "sibling")
    await sign_in(client, tom)  # on Leo's team only: he sees how to reach Mia's team
    await AuditEvent.filter(action="team.viewed").delete()
    assert (await client.get(f"/clients/{leo.id}/circle")).status_code == 200
    views = await AuditEvent.filter(action="team.viewed", actor_id=tom.id).order_by("id")
    assert [(v.client_id, v.detail) for v in views] == [
        (leo.id, {"tab": "circle"}),
        (mia.id, {"tab": "circle", "via_circle_of": leo.id}),
    ]


async def test_only_your_own_clients_can_be_linked_and_only_once(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    stranger = await support.client("Zoë", "Nguyen-Tran", birth_date=date(2015, 5, 5))
    response = await link(client, priya, mia, stranger, "sibling")
    assert response.status_code == 422
    assert "you can only link clients whose team you are on" in response.text
    response = await link(client, priya, mia, leo, "cousin")
    assert response.status_code == 422 and "Choose how they are related" in response.text
    assert await CircleLink.all().count() == 0

    await link(client, priya, mia, leo, "sibling")
    response = await link(client, priya, leo, mia, "sibling")  # the same pair, other way
    assert response.status_code == 422
    assert await CircleLink.all().count() == 1


async def test_a_non_member_sees_no_circle(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await link(client, priya, mia, leo, "sibling")
    await sign_in(client, tom)
    response = await client.get(f"/clients/{mia.id}/circle")
    assert response.status_code == 403
    assert "Leo" not in response.text and "Join this team" in response.text
    token = await csrf_token(client, "/")
    response = await client.post(
        f"/clients/{mia.id}/circle",
        data={"csrf_token": token, "other": str(leo.id), "relationship": "sibling"},
    )
    assert response.status_code == 403


async def test_a_link_made_in_error_can_be_removed(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await link(client, priya, mia, leo, "sibling")
    stored = await CircleLink.get()
    await sign_in(client, tom)
    path = f"/clients/{leo.id}/circle"
    token = await csrf_token(client, path)
    response = await client.post(f"{path}/{stored.id}/remove", data={"csrf_token": token})
    assert response.status_code == 303
    assert await CircleLink.all().count() == 0
    assert await Notification.filter(kind="circle_unlinked", practitioner_id=priya.id).exists()


async def test_the_circle_tab_takes_the_same_queries_for_one_link_or_many(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await link(client, priya, mia, leo, "sibling")
    with support.count_queries() as one:
        assert (await client.get(f"/clients/{mia.id}/circle")).status_code == 200
    for n in range(4):
        extra = await support.client(f"Extra{n}", birth_date=date(2010, 1, n + 1))
        await support.member(extra, priya)
        await support.member(extra, tom)
        await link(client, priya, mia, extra, "household")
    with support.count_queries() as many:
        page = await client.get(f"/clients/{mia.id}/circle")
    assert page.text.count('class="card circle-card"') == 5
    assert len(many.queries) == len(one.queries)
