"""Involvement check-ins: asked once per cycle, one tap to confirm, lapses shown and told."""

from __future__ import annotations

from datetime import timedelta

from models.notifications import Notification, Outbox
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.alerts import worker
from web.core import checkins
from web.core.auth import now


async def test_a_due_involvement_is_asked_once_and_confirmed_in_one_tap(client, settings):
    priya, aroha, _sam, mia = await support.thompson_team()
    await Membership.filter(practitioner=priya).update(
        last_confirmed_at=now() - timedelta(days=settings.checkin_days + 1)
    )
    assert await checkins.ask_for_checkins(settings) == 1
    assert await checkins.ask_for_checkins(settings) == 0  # once per cycle
    [asked] = await Notification.filter(kind="checkin_due")
    assert asked.practitioner_id == priya.id and asked.url == f"/clients/{mia.id}/checkin"

    await sign_in(client, priya)
    page = await client.get(asked.url)
    assert "Are you still working with Mia Thompson?" in page.text
    token = await csrf_token(client, asked.url)
    response = await client.post(asked.url, data={"csrf_token": token})
    assert response.status_code == 303
    confirmed = await Membership.get(practitioner=priya, client=mia)
    assert now() - confirmed.last_confirmed_at < timedelta(minutes=1)


async def test_an_unconfirmed_involvement_shows_and_the_team_is_told_once(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await Membership.filter(practitioner=priya).update(
        last_confirmed_at=now() - timedelta(days=settings.checkin_days + 15)
    )
    assert await checkins.tell_teams_about_lapses(settings) == 1
    assert await checkins.tell_teams_about_lapses(settings) == 0
    told = {n.practitioner_id for n in await Notification.filter(kind="membership_lapsed")}
    assert told == {aroha.id, sam.id}
    await sign_in(client, aroha)
    assert "Not confirmed since" in (await client.get(f"/clients/{mia.id}")).text


async def test_the_worker_runs_the_scheduled_jobs(settings):
    priya, _aroha, _sam, _mia = await support.thompson_team()
    await Membership.filter(practitioner=priya).update(
        last_confirmed_at=now() - timedelta(days=settings.checkin_days + 1)
    )
    await worker.scheduled(settings)
    assert await Notification.filter(kind="checkin_due").count() == 1


async def test_a_discreet_members_lapse_tells_nobody(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await Membership.filter(practitioner=sam).update(
        last_confirmed_at=now() - timedelta(days=settings.checkin_days + 15)
    )
    assert await checkins.tell_teams_about_lapses(settings) == 1
    assert (await Membership.get(practitioner=sam)).lapse_alerted_at is not None  # handled
    assert await checkins.tell_teams_about_lapses(settings) == 0
    assert not await Notification.filter(kind="membership_lapsed").exists()
    assert await Outbox.all().count() == 0
    await sign_in(client, aroha)
    team = await client.get(f"/clients/{mia.id}")
    assert team.status_code == 200 and "Not confirmed since" not in team.text
