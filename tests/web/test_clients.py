"""“Your clients” and the members-only client page."""

from __future__ import annotations

from models.attentions import Attention
from models.audit import AuditEvent
from models.circles import CircleLink
from models.teams import Membership
from tests import support
from tests.support import count_queries
from tests.web.helpers import csrf_token, sign_in
from web.core import clock, references


async def thompson_team():
    priya, aroha, sam, mia = await support.thompson_team()
    await Attention.create(client=mia, raised_by=aroha, text="Missed two appointments")
    return priya, aroha, sam, mia


async def test_your_clients_shows_a_card_per_team_with_visible_counts(client):
    priya, _aroha, sam, mia = await thompson_team()
    await sign_in(client, priya)
    html = (await client.get("/")).text
    assert f'href="/clients/{mia.id}">Mia Thompson' in html
    assert "Brimbank" in html
    assert "2 team members" in html  # Sam is discreet: not counted for Priya
    assert "1 open attention" in html

    client.cookies.clear()
    await sign_in(client, sam)
    assert "3 team members" in (await client.get("/")).text  # Sam counts themself


async def test_your_clients_takes_the_same_queries_for_one_team_or_twenty(client):
    priya = await support.practitioner()
    await support.member(await support.client("Ana", "One"), priya)
    await sign_in(client, priya)
    with count_queries() as one:
        assert (await client.get("/")).status_code == 200
    for n in range(19):
        await support.member(await support.client(f"Child{n}", "Many"), priya)
    with count_queries() as twenty:
        html = (await client.get("/")).text
    assert html.count('class="card client-card"') == 20
    assert len(twenty.queries) == len(one.queries) <= 5


async def test_the_client_page_is_for_members_only_and_audited(client):
    priya, _aroha, sam, mia = await thompson_team()
    tom = await support.practitioner(
        "Tom Walsh",
        "tom.walsh@wyndham.example",
        await support.organisation("Wyndham — Youth", "wyndham.example", area_code="LGA27260"),
    )
    await sign_in(client, tom)
    for headers in ({}, {"HX-Request": "true"}):
        refused = await client.get(f"/clients/{mia.id}", headers=headers)
        assert refused.status_code == 403
        assert "Join this team to see who is involved" in refused.text
        for secret in ("Priya", "Aroha", "Sam", "Missed", "2 team", "3 team"):
            assert secret not in refused.text
    assert (
        await AuditEvent.filter(action="team.refused", actor_id=tom.id, client_id=mia.id).count()
        == 2
    )

    client.cookies.clear()
    await sign_in(client, priya)
    page = await client.get(f"/clients/{mia.id}")
    assert page.status_code == 200
    assert "Aroha Ngata" in page.text and "Priya Nair" in page.text
    for secret in ("Sam Lee", "Westside", "sam.lee@", "5550 4567"):
        assert secret not in page.text
    assert await AuditEvent.filter(
        action="team.viewed", actor_id=priya.id, client_id=mia.id
    ).exists()
    # A client that does not exist gets the same refusal: ids cannot be probed.
    assert (await client.get("/clients/999999")).status_code == 403


async def test_a_former_member_cannot_see_the_team(client):
    priya = await support.practitioner()
    mia = await support.client()
    await support.member(mia, priya, ended_at=clock.now(), end_reason="case_closed")
    await sign_in(client, priya)
    assert (await client.get(f"/clients/{mia.id}")).status_code == 403
    assert "Mia" not in (await client.get("/")).text


async def test_a_former_member_is_no_member_for_history_circles_or_leaving(client, settings):
    """Every place that asks "is this practitioner on the team?" counts current members only:
    Priya left Leo's team, so she cannot read its history, link Leo into Mia's circle, or
    leave again, and she may join it again."""
    priya, _aroha, _sam, _tom, mia, leo = await support.thompson_siblings()
    await Membership.filter(client=leo, practitioner=priya).update(
        ended_at=clock.now(), end_reason="case_closed"
    )
    await sign_in(client, priya)
    history = await client.get(f"/clients/{leo.id}/history")
    assert history.status_code == 403 and "Leo" not in history.text
    assert (await client.get(f"/clients/{leo.id}/leave")).status_code == 403
    token = await csrf_token(client, f"/clients/{mia.id}/circle")
    linked = await client.post(
        f"/clients/{mia.id}/circle",
        data={"other": str(leo.id), "relationship": "sibling", "csrf_token": token},
    )
    assert linked.status_code == 422
    assert not await CircleLink.exists()
    left = await client.post(
        f"/clients/{leo.id}/leave", data={"reason": "other", "csrf_token": token}
    )
    assert left.status_code == 403
    assert await Membership.filter(client=leo, practitioner=priya).count() == 1
    # Not a member, so the join page is offered (with a reference), not the team.
    ref = references.client_reference(settings.secret_key, priya.id, leo.id)
    joining = await client.get(f"/clients/{leo.id}/join", params={"ref": ref})
    assert joining.status_code == 200 and "Join the team for Leo Thompson" in joining.text
