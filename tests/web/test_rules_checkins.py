"""Involvement check-ins (web/teams/checkins.py), rule by rule: who is asked and when, who is told
of a lapse (never of a discreet member's), once a cycle, and what "Still involved" changes.

Written to kill the mutants `python -m tests --mutate web/teams/checkins.py` found surviving."""

from __future__ import annotations

from datetime import timedelta

from models.audit import AuditEvent
from models.notifications import Notification
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import checkins, clock
from web.core.access import GRACE_DAYS


async def confirmed(practitioner, days_ago: float, **more) -> None:
    await Membership.filter(practitioner_id=practitioner.id).update(
        last_confirmed_at=clock.now() - timedelta(days=days_ago), **more
    )


async def test_only_current_involvements_past_the_cycle_are_asked_once_each(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    await support.member(mia, tom, ended_at=clock.now())
    days = settings.checkin_days
    await confirmed(priya, days + 1)
    await confirmed(aroha, days - 1)  # not due yet
    await confirmed(sam, days + 1)  # discreet members are asked too: it is their own
    await confirmed(tom, days + 1)  # left: not asked
    assert await checkins.ask_for_checkins(settings) == 2
    asked = await Notification.filter(kind="checkin_due").order_by("practitioner_id")
    assert [(n.practitioner_id, n.client_id, n.actor_id, n.url) for n in asked] == [  # type: ignore[attr-defined]
        (p.id, mia.id, None, f"/clients/{mia.id}/checkin") for p in (priya, sam)
    ]
    requested = await Membership.get(practitioner_id=priya.id)
    assert clock.now() - requested.checkin_requested_at < timedelta(minutes=1)
    assert (await Membership.get(practitioner_id=aroha.id)).checkin_requested_at is None
    assert await checkins.ask_for_checkins(settings) == 0


async def test_a_new_cycle_asks_again(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    days = settings.checkin_days
    # Asked in an earlier cycle, then confirmed, and due again since.
    await confirmed(priya, days + 1, checkin_requested_at=clock.now() - timedelta(days=2 * days))
    assert await checkins.ask_for_checkins(settings) == 1
    # Asked this cycle already: not again.
    await confirmed(aroha, days + 1, checkin_requested_at=clock.now() - timedelta(days=1))
    assert await checkins.ask_for_checkins(settings) == 0


async def test_a_lapse_is_told_to_the_team_once_a_cycle_and_never_for_a_discreet_member(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    lapsed = settings.checkin_days + GRACE_DAYS + 1
    await confirmed(priya, lapsed)
    await confirmed(sam, lapsed)
    await confirmed(aroha, lapsed - 2)  # still within the grace days
    assert await checkins.tell_teams_about_lapses(settings) == 2  # Priya's and Sam's
    told = await Notification.filter(kind="membership_lapsed")
    assert {n.practitioner_id for n in told} == {aroha.id, sam.id}  # type: ignore[attr-defined]
    assert {(n.client_id, n.actor_id, n.url) for n in told} == {  # type: ignore[attr-defined]
        (mia.id, priya.id, f"/clients/{mia.id}")
    }
    for who in (priya, sam):
        alerted = (await Membership.get(practitioner_id=who.id)).lapse_alerted_at
        assert clock.now() - alerted < timedelta(minutes=1)  # Sam's too: never told later
    assert (await Membership.get(practitioner_id=aroha.id)).lapse_alerted_at is None
    assert await checkins.tell_teams_about_lapses(settings) == 0
    # Confirmed since, then lapsed again: a new cycle, told again.
    await confirmed(priya, lapsed, lapse_alerted_at=clock.now() - timedelta(days=3 * lapsed))
    assert await checkins.tell_teams_about_lapses(settings) == 1


async def test_an_involvement_lapses_only_once_the_grace_days_are_over(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await confirmed(priya, settings.checkin_days + GRACE_DAYS - 1)  # asked, still in grace
    assert await checkins.tell_teams_about_lapses(settings) == 0
    await confirmed(priya, settings.checkin_days + GRACE_DAYS + 1)
    assert await checkins.tell_teams_about_lapses(settings) == 1


async def test_a_former_members_lapse_is_never_told(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await confirmed(priya, settings.checkin_days + GRACE_DAYS + 1, ended_at=clock.now())
    assert await checkins.tell_teams_about_lapses(settings) == 0
    assert await Notification.all().count() == 0


async def test_still_involved_confirms_only_my_current_membership_and_is_audited(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    long_ago = clock.now() - timedelta(days=settings.checkin_days + 1)
    earlier = await support.member(  # Priya's earlier time on Mia's team
        mia, priya, started_at=clock.now() - timedelta(days=800), ended_at=long_ago
    )
    leo = await support.client("Leo")
    await support.member(leo, priya)
    await Membership.all().update(last_confirmed_at=long_ago)
    await sign_in(client, priya)
    url = f"/clients/{mia.id}/checkin"
    page = await client.get(url)
    assert page.status_code == 200 and "Are you still working with Mia Thompson?" in page.text
    response = await client.post(url, data={"csrf_token": await csrf_token(client, url)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/clients/{mia.id}?done=confirmed"
    rows = {m.id: m for m in await Membership.all()}
    fresh = [m for m in rows.values() if m.last_confirmed_at != long_ago]
    assert [(m.practitioner_id, m.client_id) for m in fresh] == [(priya.id, mia.id)]  # type: ignore[attr-defined]
    assert clock.now() - fresh[0].last_confirmed_at < timedelta(minutes=1)
    assert fresh[0].ended_at is None and rows[earlier.id].last_confirmed_at == long_ago
    event = await AuditEvent.get(action="team.confirmed")
    assert event.actor_id == priya.id  # type: ignore[attr-defined]
    assert event.client_id == mia.id and event.area_id == mia.area_id  # type: ignore[attr-defined]


async def test_a_non_member_can_neither_see_nor_confirm_a_check_in(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    nora = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    await sign_in(client, nora)
    url = f"/clients/{mia.id}/checkin"
    page = await client.get(url)
    assert page.status_code == 403 and "Mia" not in page.text
    refused = await client.post(url, data={"csrf_token": await csrf_token(client, "/")})
    assert refused.status_code == 403
    assert not await AuditEvent.filter(action="team.confirmed").exists()
