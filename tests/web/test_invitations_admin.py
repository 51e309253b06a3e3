"""A local administrator manages the invitations in the councils they look after, and only
those; changing a colleague's invitation needs a sign-in within the last 15 minutes."""

from __future__ import annotations

from datetime import timedelta

from models.audit import AuditEvent
from models.invitations import Invitation
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import clock


async def invitations():
    """Priya's (Brimbank: Grace's district) and Tom's (Wyndham: not), both waiting."""
    priya = await support.practitioner()
    wyndham = await support.organisation(
        "Wyndham City Council", "wyndham.example", area_code="LGA27260"
    )
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example", wyndham)
    grace = await support.local_admin("grace.okafor@brimbank.example")
    expires = clock.now() + timedelta(days=14)
    made = {}
    for sender, email in ((priya, "nina.new@brimbank.example"), (tom, "wes.new@wyndham.example")):
        made[sender.name] = await Invitation.create(
            email=email,
            token_hash=email[:8] * 8,
            invited_by=sender,
            organisation_id=sender.organisation_id,  # type: ignore[attr-defined]
            expires_at=expires,
            sent_at=clock.now(),
        )
    return priya, tom, grace, made


async def post(client, path):
    return await client.post(path, data={"csrf_token": await csrf_token(client, "/invitations")})


async def test_a_local_administrator_sees_and_withdraws_the_invitations_in_their_areas(client):
    priya, tom, grace, made = await invitations()
    await sign_in(client, grace)
    page = await client.get("/invitations")
    assert page.status_code == 200
    assert "Invitations you sent and those in your areas" in page.text
    assert "nina.new@brimbank.example" in page.text and "Invited by Priya Nair" in page.text
    assert "wes.new@wyndham.example" not in page.text
    withdrawn = await post(client, f"/invitations/{made['Priya Nair'].id}/revoke")
    assert withdrawn.status_code == 303
    assert (await Invitation.get(id=made["Priya Nair"].id)).revoked_at is not None
    event = await AuditEvent.get(action="invitation.revoked")
    assert event.actor_id == grace.id  # type: ignore[attr-defined]
    # Tom's is outside her district: nothing happens to it.
    await post(client, f"/invitations/{made['Tom Walsh'].id}/revoke")
    await post(client, f"/invitations/{made['Tom Walsh'].id}/resend")
    tom_s = await Invitation.get(id=made["Tom Walsh"].id)
    assert tom_s.revoked_at is None and tom_s.sent_at == made["Tom Walsh"].sent_at


async def test_changing_a_colleagues_invitation_asks_for_a_recent_sign_in(client):
    priya, tom, grace, made = await invitations()
    await sign_in(client, grace)
    before = await support.snapshot()
    with clock.shifted(timedelta(minutes=16)):
        for action in ("revoke", "resend"):
            asked = await post(client, f"/invitations/{made['Priya Nair'].id}/{action}")
            assert asked.status_code == 403 and "Please sign in again" in asked.text
            assert 'href="/signin?next=%2Finvitations"' in asked.text
            assert "colleague&#39;s invitation, sign in again first" in asked.text
    assert support.changed(before, await support.snapshot()) == []


async def test_a_practitioner_manages_their_own_invitations_without_signing_in_again(client):
    priya, tom, grace, made = await invitations()
    await sign_in(client, priya)
    with clock.shifted(timedelta(minutes=16)):
        withdrawn = await post(client, f"/invitations/{made['Priya Nair'].id}/revoke")
    assert withdrawn.status_code == 303
    assert (await Invitation.get(id=made["Priya Nair"].id)).revoked_at is not None
    page = await client.get("/invitations")
    assert "Invitations you sent" in page.text and "wes.new@wyndham.example" not in page.text


async def test_who_invited_someone_to_a_clients_team_is_never_shown_to_an_administrator(client):
    """The sender may be a discreet member: an administrator sees the invitation, not who."""
    priya, tom, grace, made = await invitations()
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    sam = await support.practitioner("Sam Lee", "sam.lee@westsiderecovery.example", westside)
    mia = await support.client()
    await Invitation.create(
        email="ada.new@brimbank.example",
        token_hash="ada" * 20,
        invited_by=sam,
        client=mia,
        expires_at=clock.now() + timedelta(days=14),
    )
    await sign_in(client, grace)
    page = await client.get("/invitations")
    assert "ada.new@brimbank.example" in page.text
    assert "Invited by a member of the client's team" in page.text
    assert "Sam Lee" not in page.text and "Westside" not in page.text
