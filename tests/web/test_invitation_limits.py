"""Team invitations cannot be used to flood anyone's inbox.

- A team invitation is refused while one is still waiting for that address and that client
  (as "Invite a colleague to Patchwork" refuses a waiting invitation).
- A colleague already on Patchwork is alerted once a day per client, however often they are
  invited to its team; the inviter always gets the same answer, so it never tells whether
  someone else (a discreet member, say) invited them first.
- Each practitioner may send INVITATIONS_PER_HOUR invitations and resends an hour, all kinds
  together; past that a 429 page says why, and nothing is sent.
"""

from __future__ import annotations

from datetime import timedelta

from models.audit import AuditEvent
from models.invitations import Invitation
from models.notifications import Notification, Outbox
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import clock
from web.core.invitations import INVITATIONS_PER_HOUR

OUTSIDER = "nina.new@brimbank.example"


async def post(client, path, **data):
    return await client.post(path, data={"csrf_token": await csrf_token(client, "/"), **data})


async def emails_to(address: str) -> int:
    return await Outbox.filter(recipient=address, channel="email").count()


async def test_a_team_invitation_is_not_sent_again_while_one_is_waiting(client):
    priya, aroha, _sam, _tom, mia, leo = await support.thompson_siblings()
    await sign_in(client, priya)
    answers = [await post(client, f"/clients/{mia.id}/invite", email=OUTSIDER) for _ in range(30)]
    assert answers[0].status_code == 303
    assert {a.status_code for a in answers[1:]} == {422}
    assert "already has an invitation to this team waiting" in answers[1].text
    assert await Invitation.filter(email=OUTSIDER).count() == 1
    assert await emails_to(OUTSIDER) == 1

    # Nobody else on the team can send it again either; another team's invitation is new.
    client.cookies.clear()
    await sign_in(client, aroha)
    again = await post(client, f"/clients/{mia.id}/invite", email=OUTSIDER.upper())
    assert again.status_code == 422 and "waiting" in again.text
    client.cookies.clear()
    await sign_in(client, priya)
    assert (await post(client, f"/clients/{leo.id}/invite", email=OUTSIDER)).status_code == 303
    assert await emails_to(OUTSIDER) == 2

    # Once withdrawn (or expired) it is no longer waiting, and a new one may be sent.
    first = await Invitation.get(email=OUTSIDER, client_id=mia.id)
    assert (await post(client, f"/invitations/{first.id}/revoke")).status_code == 303
    assert (await post(client, f"/clients/{mia.id}/invite", email=OUTSIDER)).status_code == 303
    await Invitation.filter(email=OUTSIDER).update(expires_at=clock.now() - timedelta(minutes=1))
    assert (await post(client, f"/clients/{mia.id}/invite", email=OUTSIDER)).status_code == 303


async def test_a_colleague_on_patchwork_is_alerted_once_a_day_per_client(client):
    priya, _aroha, _sam, tom, mia, _leo = await support.thompson_siblings()
    await sign_in(client, priya)
    answers = [
        await post(client, f"/clients/{mia.id}/invite", email=tom.email)
        for _ in range(INVITATIONS_PER_HOUR)
    ]
    # The same answer every time: as if sent.
    assert {(a.status_code, a.headers["location"]) for a in answers} == {
        (303, f"/clients/{mia.id}?done=invited")
    }
    invited = Notification.filter(practitioner=tom, kind="invited_to_team", client_id=mia.id)
    assert await invited.count() == 1
    assert await emails_to(tom.email) == 1
    invitations = AuditEvent.filter(action="team.invited", actor_id=priya.id)
    assert await invitations.count() == INVITATIONS_PER_HOUR
    assert [e.detail["alerted"] for e in await invitations.order_by("id")][:2] == [True, False]

    with clock.shifted(timedelta(hours=25)):  # a day later, one more alert
        client.cookies.clear()
        await sign_in(client, priya)
        assert (await post(client, f"/clients/{mia.id}/invite", email=tom.email)).status_code == 303
    assert await invited.count() == 2


async def test_whoever_invited_first_the_answer_is_the_same(client):
    """Sam (discreet) invites Tom to Mia's team; Priya then does too. She sees what she would
    have seen had nobody invited him, and Tom is not alerted twice."""
    priya, _aroha, sam, tom, mia, _leo = await support.thompson_siblings()
    answers = {}
    for first in (None, sam):
        await Notification.all().delete()
        if first is not None:
            client.cookies.clear()
            await sign_in(client, first)
            assert (
                await post(client, f"/clients/{mia.id}/invite", email=tom.email)
            ).status_code == 303
        client.cookies.clear()
        await sign_in(client, priya)
        answer = await post(client, f"/clients/{mia.id}/invite", email=tom.email)
        page = await client.get(answer.headers["location"])
        answers[first] = (answer.status_code, answer.headers["location"], page.status_code)
        invited = Notification.filter(practitioner=tom, kind="invited_to_team", client_id=mia.id)
        assert await invited.count() == 1
    assert answers[None] == answers[sam]


async def test_invitations_and_resends_are_capped_per_inviter(client):
    priya, aroha, _sam, tom, mia, leo = await support.thompson_siblings()
    await sign_in(client, priya)
    assert (await post(client, f"/clients/{mia.id}/invite", email=OUTSIDER)).status_code == 303
    invitation = await Invitation.get(email=OUTSIDER)
    resends = [await post(client, f"/invitations/{invitation.id}/resend") for _ in range(30)]
    assert [r.status_code for r in resends] == [303] * (INVITATIONS_PER_HOUR - 1) + [429] * (
        31 - INVITATIONS_PER_HOUR
    )
    refused = resends[-1]
    assert "invitations in the last hour" in refused.text
    assert refused.headers["Retry-After"] == "3600"
    assert await emails_to(OUTSIDER) == INVITATIONS_PER_HOUR

    # Every kind counts: a team invitation (new or existing colleague) and one to Patchwork.
    for path, email in (
        (f"/clients/{leo.id}/invite", "kim.new@brimbank.example"),
        (f"/clients/{mia.id}/invite", tom.email),
        ("/invitations", "lee.new@brimbank.example"),
    ):
        answer = await post(client, path, email=email)
        assert answer.status_code == 429, path
        assert "invitations in the last hour" in answer.text
    newcomers = ["kim.new@brimbank.example", "lee.new@brimbank.example"]
    assert not await Invitation.filter(email__in=newcomers).exists()
    assert not await Notification.filter(practitioner=tom).exists()
    refusals = AuditEvent.filter(action="invitation.refused", actor_id=priya.id)
    assert await refusals.count() == (31 - INVITATIONS_PER_HOUR) + 3

    # The cap is Priya's alone, and lasts an hour.
    client.cookies.clear()
    await sign_in(client, aroha)
    assert (await post(client, "/invitations", email="kim.new@brimbank.example")).status_code == 303
    client.cookies.clear()
    await sign_in(client, priya)
    with clock.shifted(timedelta(minutes=61)):
        answer = await post(client, f"/invitations/{invitation.id}/resend")
        assert answer.status_code == 303
    assert await emails_to(OUTSIDER) == INVITATIONS_PER_HOUR + 1
