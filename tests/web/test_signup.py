"""Ways in (invitation, self-signup) and the seven questions, over HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import timedelta
from email import message_from_string
from email.policy import default

from models.audit import AuditEvent
from models.invitations import Invitation
from models.notifications import Outbox
from models.practitioners import Practitioner, PractitionerArea
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core.auth import now

NINA = "nina.new@brimbank.example"


async def link_sent_to(email: str) -> str:
    mail = await Outbox.filter(recipient=email).order_by("-id").first()
    assert mail is not None, f"nothing sent to {email}"
    link = support.link_in(message_from_string(f"To: x\n\n{mail.body}", policy=default))
    return link.replace("http://testserver", "")


async def post(client, path, **data):
    return await client.post(path, data={"csrf_token": await csrf_token(client, path), **data})


async def answer_everything(client, organisation_id: int, council_id: int) -> None:
    """Steps 1 to 6 with good answers."""
    answers = {
        1: {"name": "Nina New", "job_title": "Maternal & Child Health Nurse"},
        2: {"organisation_id": str(organisation_id)},
        3: {"phone": "03 9249 4000", "mobile": ""},
        4: {"areas": str(council_id)},
        5: {},
        6: {"notify_email": "digest"},
    }
    for step, data in answers.items():
        response = await post(client, f"/signup/{step}", **data)
        assert response.status_code == 303, (step, response.text)
        assert response.headers["location"] == f"/signup/{step + 1}"


async def test_an_invitation_to_a_team_ends_with_the_newcomer_on_it(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    await post(client, f"/clients/{mia.id}/invite", email=NINA)
    [mail] = await Outbox.filter(recipient=NINA)
    assert "Patchwork shows frontline practitioners" in mail.body
    assert "Mia" not in mail.body and "Priya" not in mail.body
    path = await link_sent_to(NINA)

    client.cookies.clear()
    welcome = await client.get(path)
    assert welcome.status_code == 200 and "Get started" in welcome.text
    started = await post(client, path)
    assert started.headers["location"] == "/signup/1"
    nina = await Practitioner.get(email=NINA)
    assert nina.signup_step == 0
    assert (await client.get(path)).status_code == 410  # used

    page = await client.get("/signup/1")
    assert "Step 1 of 7" in page.text
    empty = await post(client, "/signup/1", name="", job_title="")
    assert empty.status_code == 422 and "There is a problem" in empty.text
    assert "Enter your full name" in empty.text

    brimbank = await support.organisation()
    await post(client, "/signup/1", name="Nina New", job_title="MCH Nurse")
    step2 = await client.get("/signup/2")
    assert f'value="{brimbank.id}" checked' in step2.text  # from the email's domain
    step4_council = brimbank.area_id
    await post(client, "/signup/2", organisation_id=str(brimbank.id))
    await post(client, "/signup/3", phone="03 9249 4000")
    step4 = await client.get("/signup/4")
    assert f'value="{step4_council}" checked' in step4.text  # suggested from the organisation
    await post(client, "/signup/4", areas=str(step4_council))
    await post(client, "/signup/5")
    assert not await Membership.filter(practitioner=nina).exists()
    done = await post(client, "/signup/6", notify_email="immediate")
    assert done.headers["location"] == "/signup/7"

    assert await Membership.filter(practitioner=nina, client=mia, ended_at__isnull=True).exists()
    last = await client.get("/signup/7")
    assert f'href="/clients/{mia.id}"' in last.text and "Step 7 of 7" in last.text
    assert (await client.get(f"/clients/{mia.id}")).status_code == 200
    nina = await Practitioner.get(email=NINA)
    assert (nina.name, nina.phone, nina.signup_step) == ("Nina New", "03 9249 4000", 6)
    assert await AuditEvent.filter(action="signup.completed", actor_id=nina.id).exists()


async def test_leaving_midway_resumes_at_the_next_question(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await post(client, "/invitations", email=NINA)
    path = await link_sent_to(NINA)
    client.cookies.clear()
    await post(client, path)
    await post(client, "/signup/1", name="Nina New", job_title="MCH Nurse")
    assert (await client.get("/signup/4")).headers["location"] == "/signup/2"  # in order

    client.cookies.clear()
    nina = await Practitioner.get(email=NINA)
    await sign_in(client, nina)
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/signup/2"


async def test_each_question_checks_its_answer_and_changes_nothing_when_wrong(client):
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    await support.organisation()
    nina = await support.practitioner("", NINA, signup_step=1)
    await sign_in(client, nina)
    sensitive = await post(client, "/signup/2", organisation_id=str(westside.id))
    assert sensitive.status_code == 422  # only the services that own your email's domain
    assert "Choose your organisation and service" in sensitive.text
    nina.signup_step = 2
    await nina.save()
    for bad in ({"phone": "", "mobile": ""}, {"phone": "call me maybe", "mobile": ""}):
        response = await post(client, "/signup/3", **bad)
        assert response.status_code == 422
    nina.signup_step = 3
    await nina.save()
    response = await post(client, "/signup/4")
    assert response.status_code == 422 and "at least one council" in response.text
    assert not await PractitionerArea.exists(practitioner=nina)
    assert (await Practitioner.get(id=nina.id)).phone == "03 5550 1234"


async def test_self_signup_with_a_work_email_of_a_registered_organisation(client):
    brimbank = await support.organisation()
    response = await post(client, "/signup", email=NINA)
    assert response.status_code == 200 and "Check your email" in response.text
    [mail] = await Outbox.filter(recipient=NINA)
    assert "Patchwork shows frontline practitioners" in mail.body
    path = await link_sent_to(NINA)
    await post(client, path)
    await answer_everything(client, brimbank.id, brimbank.area_id)
    nina = await Practitioner.get(email=NINA)
    assert nina.organisation_id == brimbank.id and nina.notify_email == "digest"
    assert (await client.get("/")).status_code == 200


async def test_an_unknown_domain_is_told_kindly_to_ask_for_an_invitation(client):
    await support.organisation()
    response = await post(client, "/signup", email="someone@gmail.example")
    assert response.status_code == 422
    assert "Ask a colleague who uses Patchwork to invite you" in response.text
    assert not await Outbox.exists() and not await Invitation.exists()


async def test_self_signup_for_an_existing_account_just_sends_a_sign_in_link(client):
    priya = await support.practitioner()
    response = await post(client, "/signup", email=priya.email)
    assert "Check your email" in response.text
    [mail] = await Outbox.filter(recipient=priya.email)
    assert "/signin/link?token=" in mail.body and not await Invitation.exists()


async def test_invitations_expire_can_be_resent_and_withdrawn(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await post(client, "/invitations", email=NINA)
    first = await link_sent_to(NINA)
    invitation = await Invitation.get(email=NINA)
    listed = await client.get("/invitations")
    assert NINA in listed.text and "Waiting" in listed.text and "Priya Nair" in listed.text

    twice = await post(client, "/invitations", email=NINA)
    assert twice.status_code == 422 and "already has an invitation waiting" in twice.text

    await post(client, f"/invitations/{invitation.id}/resend")
    second = await link_sent_to(NINA)
    assert second != first
    assert (await client.get(first)).status_code == 410  # the old link no longer works
    assert (await client.get(second)).status_code == 200

    await post(client, f"/invitations/{invitation.id}/revoke")
    assert (await client.get(second)).status_code == 410
    assert "Withdrawn" in (await client.get("/invitations")).text

    await post(client, f"/invitations/{invitation.id}/resend")
    third = await link_sent_to(NINA)
    await Invitation.filter(id=invitation.id).update(expires_at=now() - timedelta(minutes=1))
    expired = await client.get(third)
    assert expired.status_code == 410 and "expired" in expired.text
    assert "Expired" in (await client.get("/invitations")).text
    assert await AuditEvent.filter(action="invitation.revoked", actor_id=priya.id).exists()


async def test_only_the_inviter_can_resend_or_withdraw(client):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    await sign_in(client, priya)
    await post(client, "/invitations", email=NINA)
    invitation = await Invitation.get(email=NINA)
    await sign_in(client, aroha)
    assert NINA not in (await client.get("/invitations")).text
    await post(client, f"/invitations/{invitation.id}/revoke")
    assert (await Invitation.get(id=invitation.id)).revoked_at is None


async def test_invite_admin_on_the_command_line(db, client):
    brimbank = await support.organisation()
    env = {**os.environ, "DATABASE_URL": db}

    def run(email: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "web", "invite-admin", email],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = await asyncio.to_thread(run, "ada.admin@brimbank.example")
    assert done.returncode == 0, done.stderr
    assert "/invitations/" in done.stdout
    invitation = await Invitation.get(email="ada.admin@brimbank.example")
    assert invitation.role == "state_admin" and invitation.invited_by_id is None
    assert await Outbox.exists(recipient="ada.admin@brimbank.example")
    refused = await asyncio.to_thread(run, "someone@unknown.example")
    assert refused.returncode == 1 and "No organisation owns" in refused.stderr
    # Nobody vouches for an invite-admin invitation: the domain's organisation is theirs.
    await post(client, re.search(r"/invitations/\S+", done.stdout).group(0))
    ada = await Practitioner.get(email="ada.admin@brimbank.example")
    assert ada.role == "state_admin" and ada.organisation_id == brimbank.id
    assert ada.organisation_vouched_by_id is None


async def test_a_state_administrator_sees_and_withdraws_everyones_invitations(client):
    priya = await support.practitioner()
    ada = await support.practitioner("Ada Admin", "ada@brimbank.example", role="state_admin")
    await sign_in(client, priya)
    await post(client, "/invitations", email=NINA)
    invitation = await Invitation.get(email=NINA)
    await sign_in(client, ada)
    page = (await client.get("/invitations")).text
    assert NINA in page and "sent by everyone" in page and "Invited by Priya Nair" in page
    await post(client, f"/invitations/{invitation.id}/revoke")
    assert (await Invitation.get(id=invitation.id)).revoked_at is not None


async def test_search_opens_with_the_last_page_of_signup_and_not_before(client):
    await support.thompson_team()
    nina = await support.practitioner("Nina New", NINA, signup_step=5)
    await sign_in(client, nina)
    search = {"q": "mia thom"}
    early = await client.get("/clients/search", params=search)
    assert early.status_code == 303 and early.headers["location"] == "/signup/6"
    assert (
        await client.get("/clients/search", params=search, headers={"HX-Request": "true"})
    ).status_code == 403
    assert (await post(client, "/signup/6", notify_email="off")).headers["location"] == "/signup/7"
    last = await client.get("/signup/7")
    assert last.status_code == 200 and 'action="/clients/search"' in last.text
    found = await client.get("/clients/search", params=search)
    assert found.status_code == 200 and "Thompson" in found.text
