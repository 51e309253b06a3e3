"""Organisations are vouched for: by an email domain, or by the inviter, never by oneself."""

from __future__ import annotations

import importlib
from html import escape
from types import SimpleNamespace

from tortoise import connections

from models.audit import AuditEvent
from models.circles import CircleLink, ordered_pair
from models.invitations import Invitation
from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import sign_in
from tests.web.test_signup import link_sent_to, post
from web.core.auth import now
from web.core.invitations import send_invitation

GINA = "gina.green@gmail.example"
NINA = "nina.new@brimbank.example"
NOTE = "Organisation confirmed by invitation from Priya Nair"


async def finish_signup(client, organisation_id: int, council_id: int) -> None:
    for step, data in {
        1: {"name": "Gina Green", "job_title": "Family Support Worker"},
        2: {"organisation_id": str(organisation_id)},
        3: {"phone": "03 9249 4111"},
        4: {"areas": str(council_id)},
        5: {},
        6: {"notify_email": "off"},
    }.items():
        response = await post(client, f"/signup/{step}", **data)
        assert response.status_code == 303, (step, response.text)


async def test_an_invitee_at_a_domain_nobody_owns_joins_the_inviters_organisation(client):
    priya, aroha, _sam, mia = await support.thompson_team()
    brimbank, dffh = await priya.organisation, await aroha.organisation
    await sign_in(client, priya)
    form = await client.get("/invitations")
    assert 'name="organisation_id"' not in form.text  # nothing to choose: her own organisation
    assert f"they join {escape(brimbank.name)} on your word" in form.text
    naming_another = await post(client, "/invitations", email=GINA, organisation_id=str(dffh.id))
    assert naming_another.status_code == 422 and not await Invitation.exists()

    await post(client, f"/clients/{mia.id}/invite", email=GINA)
    invitation = await Invitation.get(email=GINA)
    assert invitation.organisation_id == brimbank.id
    assert await AuditEvent.filter(action="invitation.organisation", actor_id=priya.id).exists()

    client.cookies.clear()
    await post(client, await link_sent_to(GINA))
    gina = await Practitioner.get(email=GINA)
    assert (gina.organisation_id, gina.organisation_vouched_by_id) == (brimbank.id, priya.id)
    assert gina.organisation_vouched_only
    await post(client, "/signup/1", name="Gina Green", job_title="Family Support Worker")
    step2 = await client.get("/signup/2")
    assert 'type="radio"' not in step2.text and escape(dffh.name) not in step2.text
    assert escape(brimbank.name) in step2.text and NOTE in step2.text
    picked = await post(client, "/signup/2", organisation_id=str(dffh.id))
    assert picked.status_code == 422
    assert (await Practitioner.get(id=gina.id)).organisation_id == brimbank.id
    await finish_signup(client, brimbank.id, brimbank.area_id)
    assert (await client.get("/profile")).text.count("Organisation confirmed by invitation") == 1

    await sign_in(client, aroha)
    team = (await client.get(f"/clients/{mia.id}")).text
    assert "Gina Green" in team and team.count(NOTE) == 1  # Priya's own card has none
    assert NOTE in (await client.get("/people", params={"q": "gina"})).text
    assert NOTE in (await client.get(f"/people/{gina.id}")).text
    assert NOTE in (await client.get(f"/organisations/{brimbank.id}")).text
    assert NOTE not in (await client.get("/people", params={"q": "priya"})).text
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    leo = await support.client("Leo")
    await support.member(leo, tom)
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    await sign_in(client, tom)
    assert NOTE in (await client.get(f"/clients/{leo.id}/circle")).text

    await Practitioner.filter(id=gina.id).update(organisation_confirmed_at=now())
    assert "confirmed by invitation" not in (await client.get(f"/people/{gina.id}")).text


async def test_a_state_administrator_may_name_any_organisation_but_a_domain_wins(client):
    priya, aroha, *_ = await support.thompson_team()
    dffh = await aroha.organisation
    ada = await support.practitioner("Ada Admin", "ada@brimbank.example", role="state_admin")
    await sign_in(client, ada)
    form = await client.get("/invitations")
    assert 'name="organisation_id"' in form.text and f">{escape(dffh.name)}</option>" in form.text
    await post(client, "/invitations", email=GINA, organisation_id=str(dffh.id))
    await post(client, "/invitations", email=NINA, organisation_id=str(dffh.id))
    assert {i.email: i.organisation_id for i in await Invitation.all()} == {
        GINA: dffh.id,
        NINA: dffh.id,
    }

    client.cookies.clear()
    await post(client, await link_sent_to(GINA))
    gina = await Practitioner.get(email=GINA)
    assert (gina.organisation_id, gina.organisation_vouched_by_id) == (dffh.id, ada.id)

    client.cookies.clear()
    await post(client, await link_sent_to(NINA))
    nina = await Practitioner.get(email=NINA)
    assert nina.organisation_id == priya.organisation_id  # the domain's owner
    assert nina.organisation_vouched_by_id is None and not nina.organisation_vouched_only


async def test_nobody_vouches_for_an_invitation_without_an_inviter(client, settings):
    await support.organisation()
    await send_invitation(settings, GINA, None)
    client.cookies.clear()
    refused = await post(client, await link_sent_to(GINA))
    assert refused.status_code == 422 and not await Practitioner.exists(email=GINA)


async def test_the_migration_marks_earlier_invitees_at_unowned_domains_as_vouched_for(db):
    priya = await support.practitioner()
    gina = await support.practitioner("Gina Green", GINA)
    nina = await support.practitioner("Nina New", NINA)
    for invitee in (gina, nina):
        await Invitation.create(
            email=invitee.email,
            token_hash=f"hash-{invitee.id}",
            invited_by=priya,
            expires_at=now(),
            accepted_at=now(),
            accepted_by=invitee,
        )
    migration = importlib.import_module("models.migrations.0006_vouched_organisations")
    editor = SimpleNamespace(client=connections.get("default"))
    await migration.vouch_for_invitees_at_unowned_domains(None, editor)
    assert (await Practitioner.get(id=gina.id)).organisation_vouched_by_id == priya.id
    assert (await Practitioner.get(id=nina.id)).organisation_vouched_by_id is None


async def test_a_sensitive_service_is_never_vouched_for(client, settings):
    """Sam (discreet, Westside Recovery) cannot place an outsider in Westside on his word, so
    nobody joins a team discreetly on a discreet member's say-so, and no signup page names
    him; an earlier invitation that would do it places nobody."""
    _priya, _aroha, sam, mia = await support.thompson_team()
    await sign_in(client, sam)
    for path in (f"/clients/{mia.id}/invite", "/invitations"):
        refused = await post(client, path, email=GINA)
        assert refused.status_code == 422
        assert "only add someone to a sensitive service" in refused.text
    assert not await Invitation.exists(email=GINA)
    # A colleague at Westside's own domain is invited as before.
    colleague = "kim.ward@westsiderecovery.example"
    sent = await post(client, f"/clients/{mia.id}/invite", email=colleague)
    assert sent.status_code == 303
    _invitation, link = await send_invitation(settings, GINA, sam, client_id=mia.id)
    client.cookies.clear()
    opened = await post(client, link.removeprefix(settings.base_url))
    assert opened.status_code == 422 and "not on Patchwork yet" in opened.text
    assert not await Practitioner.exists(email=GINA)
