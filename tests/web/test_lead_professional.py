"""The lead professional: any visible member records who the team agreed on; the team sees
it first on the team page and on their own "Your clients" card, History keeps every change
and the team is told; a discreet member can neither lead nor name one; a lead who leaves (or
goes discreet) leaves the team without one, visibly."""

from __future__ import annotations

import asyncio
import re

from models.audit import AuditEvent
from models.notifications import Notification, PushSubscription
from models.teams import Membership, TeamEvent
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import access, lead
from web.core.settings import load


async def choose(client, client_id: int, member: str):
    token = await csrf_token(client, f"/clients/{client_id}/lead")
    return await client.post(
        f"/clients/{client_id}/lead", data={"member": member, "csrf_token": token}
    )


def member_names(html: str) -> list[str]:
    """The names on the team page's member cards, in order."""
    return re.findall(r'<h3 class="card-title">([^<(]+?)(?: \(you\))?</h3>', html)


async def test_a_member_names_the_lead_and_the_team_sees_it_first_and_is_told(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    page = await client.get(f"/clients/{mia.id}")
    assert "No lead professional" in page.text
    assert member_names(page.text) == ["Aroha Ngata", "Priya Nair"]

    form = await client.get(f"/clients/{mia.id}/lead")
    assert form.status_code == 200
    # Only visible members may lead: Sam (discreet) is not offered.
    assert f'value="{aroha.id}"' in form.text and f'value="{priya.id}"' in form.text
    assert f'value="{sam.id}"' not in form.text and "Sam Lee" not in form.text

    answer = await choose(client, mia.id, str(priya.id))
    assert answer.status_code == 303
    page = await client.get(f"/clients/{mia.id}")
    assert member_names(page.text) == ["Priya Nair", "Aroha Ngata"]  # the lead first
    assert "Lead professional: you" in page.text and "No lead professional" not in page.text
    dashboard = await client.get("/")
    assert dashboard.text.count("You are the lead") == 1

    told = await Notification.filter(kind="lead_named").values_list("practitioner_id", flat=True)
    assert sorted(told) == sorted([aroha.id, sam.id])  # the rest of the team, Sam too
    assert await AuditEvent.filter(action="team.lead_named", client_id=mia.id).count() == 1
    history = await client.get(f"/clients/{mia.id}/history")
    assert "agreed to be the lead professional" in history.text

    # Aroha is then agreed on instead: one lead at a time.
    assert (await choose(client, mia.id, str(aroha.id))).status_code == 303
    dashboard = await client.get("/")
    assert "You are the lead" not in dashboard.text and "Lead: Aroha Ngata" in dashboard.text
    leads = await Membership.filter(client_id=mia.id, ended_at=None, lead=True)
    assert [m.practitioner_id for m in leads] == [aroha.id]
    page = await client.get(f"/clients/{mia.id}")
    assert member_names(page.text)[0] == "Aroha Ngata"
    assert "Lead professional</strong>" in page.text
    history = await client.get(f"/clients/{mia.id}/history")
    assert "recorded Aroha Ngata as the lead professional" in history.text


async def test_a_discreet_member_cannot_lead_or_name_a_lead(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, sam)
    page = await client.get(f"/clients/{mia.id}")
    assert f"/clients/{mia.id}/lead" not in page.text
    assert (await client.get(f"/clients/{mia.id}/lead")).status_code == 403
    refused = await choose(client, mia.id, str(aroha.id))
    assert refused.status_code == 403 and "discreetly" in refused.text
    assert not await TeamEvent.exists()
    assert not await Membership.filter(lead=True).exists()

    # Nor can anyone choose Sam, by his id, while he is discreet.
    await sign_in(client, priya)
    answer = await choose(client, mia.id, str(sam.id))
    assert answer.status_code == 422 and "Choose a member of the team" in answer.text
    assert "Sam Lee" not in answer.text
    assert not await Membership.filter(lead=True).exists()


async def test_bad_choices_change_nothing(client):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, priya)
    for bad in ("", "0", str(tom.id), "x" * 500, "1\x00", "99999999999999999999"):
        answer = await choose(client, mia.id, bad)
        assert answer.status_code in (400, 422), bad  # NUL: refused before the route
    assert not await Membership.filter(lead=True).exists()
    # Naming the lead who leads already changes nothing and tells nobody.
    assert (await choose(client, mia.id, "none")).status_code == 303
    assert not await TeamEvent.exists()
    # A non-member cannot reach the form, whether or not the client exists.
    await sign_in(client, tom)
    assert (await client.get(f"/clients/{mia.id}/lead")).status_code == 403
    assert (await choose(client, mia.id, str(tom.id))).status_code == 403
    assert (await choose(client, 987654, str(tom.id))).status_code == 403


async def test_a_lead_who_leaves_leaves_the_team_without_one_until_another_is_agreed(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    await choose(client, mia.id, str(aroha.id))
    await sign_in(client, aroha)
    token = await csrf_token(client, f"/clients/{mia.id}/leave")
    left = await client.post(
        f"/clients/{mia.id}/leave", data={"reason": "transferred", "csrf_token": token}
    )
    assert left.status_code == 303
    await sign_in(client, priya)
    page = await client.get(f"/clients/{mia.id}")
    assert "No lead professional" in page.text and "Lead professional</strong>" not in page.text
    history = await client.get(f"/clients/{mia.id}/history")
    assert (
        "Aroha Ngata</strong> is no longer the lead professional: the team has none" in history.text
    )
    # One alert says both: the lead has left.
    told = await Notification.filter(kind="lead_left").values_list("practitioner_id", flat=True)
    assert sorted(told) == sorted([priya.id, sam.id])
    assert not await Notification.filter(kind="left").exists()
    # Another is agreed: the team has a lead again.
    assert (await choose(client, mia.id, str(priya.id))).status_code == 303
    assert "Lead professional: you" in (await client.get(f"/clients/{mia.id}")).text


async def test_recording_that_there_is_no_lead_for_now(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    await choose(client, mia.id, str(aroha.id))
    assert (await choose(client, mia.id, "none")).status_code == 303
    assert not await Membership.filter(lead=True, ended_at=None).exists()
    history = await client.get(f"/clients/{mia.id}/history")
    assert "recorded that Aroha Ngata is no longer the lead" in history.text
    assert await AuditEvent.filter(action="team.lead_cleared").count() == 1


async def test_changing_the_lead_over_and_over_alerts_each_member_once_an_hour(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    for _ in range(5):
        assert (await choose(client, mia.id, str(aroha.id))).status_code == 303
        assert (await choose(client, mia.id, "none")).status_code == 303
    told = await Notification.filter(practitioner_id=aroha.id).values_list("kind", flat=True)
    assert told == ["lead_named"]  # History keeps all ten
    assert await TeamEvent.filter(client_id=mia.id).count() == 10


async def test_a_deactivated_practitioner_cannot_lead_and_their_teams_are_told(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    await choose(client, mia.id, str(aroha.id))
    await lead.deactivate(aroha, load({}))
    page = await client.get(f"/clients/{mia.id}")
    assert "No lead professional" in page.text and "Lead professional</strong>" not in page.text
    assert "Lead: Aroha" not in (await client.get("/")).text
    assert f'value="{aroha.id}"' not in (await client.get(f"/clients/{mia.id}/lead")).text
    assert (await choose(client, mia.id, str(aroha.id))).status_code == 422
    assert await Notification.filter(practitioner_id=priya.id, kind="lead_gone").exists()


async def test_a_lead_leaving_with_every_alert_channel_stays_within_its_budget(client):
    """Email and push queued for each member, the History line, the audit event: counted."""
    priya, aroha, sam, mia = await support.thompson_team()
    for person in (priya, sam):
        await PushSubscription.create(
            practitioner_id=person.id,
            endpoint=f"http://127.0.0.1:9/push/{person.id}",
            p256dh="BNc" + "A" * 84,
            auth="A" * 22,
        )
    await sign_in(client, priya)
    await choose(client, mia.id, str(aroha.id))
    await sign_in(client, aroha)
    token = await csrf_token(client, f"/clients/{mia.id}/leave")
    left = await client.post(
        f"/clients/{mia.id}/leave", data={"reason": "other", "csrf_token": token}
    )
    assert left.status_code == 303  # the suite's count fails the test if it went over
    assert await Notification.filter(kind="lead_left").count() == 2


async def deactivated_after(delay: float, practitioner, settings) -> int:
    await asyncio.sleep(delay)  # into the middle of the leave
    return await lead.deactivate(practitioner, settings)


async def test_a_lead_leaving_as_they_are_deactivated_never_deadlocks(client, settings):
    """Both take her membership, then her own row (PostgreSQL would otherwise deadlock one of
    them: a 500 on the leave). Eight rounds at once, the deactivation a little later each
    time; every answer is a plain one."""
    priya, aroha, _sam, mia = await support.thompson_team()
    for delay in (0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.007, 0.01):
        await type(priya).filter(id=priya.id).update(active=True)
        await Membership.filter(client=mia).update(lead=False)
        if not await Membership.filter(access.current(), client=mia, practitioner=priya).exists():
            await support.member(mia, priya)
        await Membership.filter(access.current(), client=mia, practitioner=priya).update(lead=True)
        await sign_in(client, priya)
        token = await csrf_token(client, "/")
        fresh = await type(priya).get(id=priya.id)

        leave, _ended = await asyncio.gather(
            client.post(f"/clients/{mia.id}/leave", data={"csrf_token": token, "reason": "other"}),
            deactivated_after(delay, fresh, settings),
        )
        assert leave.status_code < 500, leave.text[:200]
