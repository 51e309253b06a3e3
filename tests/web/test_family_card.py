"""The family's card: sharing it with care, what the family sees, who is listed, and links
that confirm nothing once they stop working."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import httpx
import pytest

from models.audit import AuditEvent
from models.family import FamilyCard, FamilyCardAgreement
from models.notifications import Notification, Outbox
from models.organisations import Organisation
from models.teams import Membership, TeamEvent
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.commands import RedactAccessLog
from web.core import clock, family, retention

TOKEN = re.compile(r"/family/([A-Za-z0-9_\-]{43})")
SHARE = {
    "agreed": "yes",
    "safe": "yes",
    "recipient": "Jade (mother)",
    "method": "email",
    "email": "jade.family@example.com",
    "days": "30",
}


async def thompsons():
    """Mia's team (Priya, Aroha from child protection, Sam discreet from Westside)."""
    priya, aroha, sam, mia = await support.thompson_team()
    await Organisation.filter(name="DFFH — Child Protection").update(
        service_type="Child Protection"
    )
    return priya, aroha, sam, mia


async def post(http: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    return await http.post(path, data={**data, "csrf_token": await csrf_token(http, "/")})


async def share(http: httpx.AsyncClient, client_id: int, **changes: str) -> str:
    """Share the team by email (or as told); the card's token, read from what was sent."""
    response = await post(http, f"/clients/{client_id}/family/share", **{**SHARE, **changes})
    if changes.get("method") == "qr":
        assert response.status_code == 200, response.text
        found = TOKEN.search(response.text)
    else:
        assert response.status_code == 303, response.text
        email = await Outbox.filter(recipient=SHARE["email"]).order_by("-id").first()
        assert email is not None
        found = TOKEN.search(email.body)
    assert found, email.body if changes.get("method") != "qr" else response.text
    return found.group(1)


@pytest.fixture
async def phone(settings):
    """An anonymous phone: the family, who never signs in."""
    from web.app import create_app

    transport = httpx.ASGITransport(app=create_app(settings), client=("198.51.100.4", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_the_card_lists_the_team_the_family_may_see(client, phone):
    priya, aroha, _sam, mia = await thompsons()
    await Membership.filter(practitioner=priya).update(lead=True)
    await sign_in(client, priya)
    token = await share(client, mia.id)
    card = await phone.get(f"/family/{token}")
    assert card.status_code == 200
    page = card.text
    assert "The team working with Mia" in page and "Your main contact" in page
    assert "Priya" in page and 'href="tel:0355501234"' in page
    assert "Maternal &amp; Child Health Nurse" in page
    # First names only, one client, nobody discreet, sensitive or not yet agreed.
    for absent in ("Nair", "Thompson", "Mimi", "Sam", "Lee", "Westside", "Recovery", "Aroha"):
        assert absent not in page, absent
    assert "@" not in page and "<script" not in page and "csrf" not in page
    assert card.headers["cache-control"] == "no-store"
    assert card.headers["x-robots-tag"] == "noindex, nofollow"
    assert card.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in page
    assert "default-src 'self'" in card.headers["content-security-policy"]
    assert "pwtest_session" not in card.headers.get("set-cookie", "")
    assert not re.search(r'(src|href)="https?://', page), "nothing from another site"

    # Aroha (child protection) is asked: she is on the card once she agrees, at once.
    aroha_http = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(aroha_http, aroha)
    cards_page = (await aroha_http.get(f"/clients/{mia.id}/family")).text
    assert "You are not on this card yet" in cards_page
    card_id = (await FamilyCard.get()).id
    agreed = await post(aroha_http, f"/clients/{mia.id}/family/{card_id}/agree")
    assert agreed.status_code == 303
    assert "Aroha" in (await phone.get(f"/family/{token}")).text
    await post(aroha_http, f"/clients/{mia.id}/family/{card_id}/unlist")
    assert "Aroha" not in (await phone.get(f"/family/{token}")).text

    # Priya opts out for this team: off every current card at once.
    await post(client, f"/clients/{mia.id}/family/listing", listing="never")
    assert "Priya" not in (await phone.get(f"/family/{token}")).text
    await post(client, f"/clients/{mia.id}/family/listing", listing="")
    assert "Priya" in (await phone.get(f"/family/{token}")).text
    await aroha_http.aclose()


async def test_unknown_expired_and_withdrawn_links_get_one_neutral_page(client, phone):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    expiring = await share(client, mia.id, days="7")
    withdrawn = await share(client, mia.id)
    unknown = "A" * 43

    card = await FamilyCard.filter(method="email").order_by("-id").first()
    assert card is not None
    assert (await post(client, f"/clients/{mia.id}/family/{card.id}/withdraw")).status_code == 303
    with clock.shifted(timedelta(days=8)):
        answers = [await phone.get(f"/family/{t}") for t in (unknown, expiring, withdrawn)]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert "This link does not work" in answers[0].text and "Mia" not in answers[0].text

    def headers(response: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k not in ("date", "set-cookie")}

    assert headers(answers[0]) == headers(answers[1]) == headers(answers[2])
    assert answers[0].headers["cache-control"] == "no-store"
    assert answers[0].headers["referrer-policy"] == "no-referrer"


async def test_opening_cards_is_limited_per_card_and_per_address(client, phone, monkeypatch):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await share(client, mia.id)
    monkeypatch.setattr(family, "PER_CARD_PER_HOUR", 3)
    monkeypatch.setattr(family, "PER_ADDRESS_PER_HOUR", 5)
    statuses = [(await phone.get(f"/family/{token}")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Guessing other links from the same address runs into the per-address limit.
    guesses = [(await phone.get(f"/family/{'B' * 42}{n}")).status_code for n in range(2)]
    assert guesses == [404, 429]
    busy = await phone.get(f"/family/{'C' * 43}")
    assert busy.status_code == 429 and busy.headers["cache-control"] == "no-store"


async def test_a_discreet_member_is_not_offered_sharing_and_is_refused(client):
    _priya, _aroha, sam, mia = await thompsons()
    await sign_in(client, sam)
    team_page = (await client.get(f"/clients/{mia.id}")).text
    assert "/family/share" not in team_page
    assert (await client.get(f"/clients/{mia.id}/family/share")).status_code == 403
    refused = await post(client, f"/clients/{mia.id}/family/share", **SHARE)
    assert refused.status_code == 403 and "discreetly" in refused.text
    assert not await FamilyCard.exists() and not await Outbox.exists()


async def test_sharing_is_confirmed_first_and_takes_a_name_only(client):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    form = (await client.get(f"/clients/{mia.id}/family/share")).text
    assert "family violence" in form and "Sensitive services" in form
    missing = await post(client, f"/clients/{mia.id}/family/share", **{**SHARE, "safe": ""})
    assert missing.status_code == 422 and "Confirm that showing the team is safe" in missing.text
    for recipient in ("jade@example.com", "Jade, 12 High St", ""):
        wrong = await post(
            client, f"/clients/{mia.id}/family/share", **{**SHARE, "recipient": recipient}
        )
        assert wrong.status_code == 422, recipient
    no_email = await post(client, f"/clients/{mia.id}/family/share", **{**SHARE, "email": "x"})
    assert no_email.status_code == 422
    assert not await FamilyCard.exists()


async def test_a_qr_code_is_shown_once_and_nothing_is_emailed(client, phone):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    response = await post(
        client, f"/clients/{mia.id}/family/share", **{**SHARE, "method": "qr", "email": ""}
    )
    assert response.status_code == 200 and "<svg" in response.text
    assert response.headers["cache-control"] == "no-store"
    token = TOKEN.search(response.text)
    assert token
    assert not await Outbox.filter(channel="email", recipient__contains="example.com").exists()
    assert (await phone.get(f"/family/{token.group(1)}")).status_code == 200
    card = await FamilyCard.get()
    assert card.token_hash == family.token_hash(token.group(1)) and card.method == "qr"


async def test_the_address_and_the_link_are_kept_nowhere_once_sent(client, settings, smtp):
    from tests.support import snapshot
    from web.alerts.worker import deliver_due

    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await share(client, mia.id)
    await deliver_due(settings)
    [message] = await smtp.mailbox.wait_for(SHARE["email"])
    assert token in support.link_in(message)
    assert "Priya" in message.get_body(("plain",)).get_content()
    tables = await snapshot()
    for table, rows in tables.items():
        for row in rows:
            text = repr(row)
            assert SHARE["email"] not in text, table
            assert token not in text, table
            assert "jade.family" not in text, table


async def test_sharing_opening_and_withdrawing_are_audited_and_in_history(client, phone):
    priya, aroha, sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await share(client, mia.id)
    for _ in range(3):
        await phone.get(f"/family/{token}")
    with clock.shifted(timedelta(days=1)):
        await phone.get(f"/family/{token}")
    card = await FamilyCard.get()
    await post(client, f"/clients/{mia.id}/family/{card.id}/withdraw")
    actions = await AuditEvent.filter(action__startswith="family_card.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == sorted(
        ["family_card.shared", "family_card.opened", "family_card.opened", "family_card.withdrawn"]
    )
    events = await TeamEvent.filter(client=mia).order_by("id").values_list("kind", "actor_id")
    assert events == [
        ("card_shared", priya.id),
        ("card_opened", None),
        ("card_opened", None),
        ("card_withdrawn", priya.id),
    ]
    told = await Notification.filter(kind__in=["card_shared", "card_withdrawn"]).values_list(
        "practitioner_id", "kind"
    )
    assert sorted(told) == sorted(
        [(p.id, k) for p in (aroha, sam) for k in ("card_shared", "card_withdrawn")]
    )
    history = (await client.get(f"/clients/{mia.id}/history")).text
    assert "Jade" not in history and "jade" not in history
    audited = await AuditEvent.filter(action__startswith="family_card.").values_list(
        "detail", flat=True
    )
    assert "Jade" not in repr(audited) and "example.com" not in repr(audited)


async def test_a_discreet_members_withdrawal_names_nobody(client, phone):
    priya, _aroha, sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await share(client, mia.id)
    card = await FamilyCard.get()
    sam_http = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(sam_http, sam)
    form = (await sam_http.get(f"/clients/{mia.id}/family/{card.id}/withdraw")).text
    assert "discreetly" in form
    assert (await post(sam_http, f"/clients/{mia.id}/family/{card.id}/withdraw")).status_code == 303
    await sam_http.aclose()
    assert (await phone.get(f"/family/{token}")).status_code == 404
    withdrawn = await TeamEvent.get(kind="card_withdrawn")
    assert withdrawn.actor_id is None
    assert (await FamilyCard.get()).withdrawn_by_id is None
    assert not await Notification.filter(kind="card_withdrawn", actor_id=sam.id).exists()


async def test_the_sharer_who_is_asked_each_time_is_on_their_own_card(client, phone):
    priya, _aroha, _sam, mia = await thompsons()
    await priya.filter(id=priya.id).update(family_listing="ask")
    await sign_in(client, priya)
    token = await share(client, mia.id)
    assert await FamilyCardAgreement.filter(practitioner=priya).exists()
    assert "Priya" in (await phone.get(f"/family/{token}")).text
    await priya.filter(id=priya.id).update(family_listing="never")
    form = (await client.get(f"/clients/{mia.id}/family/share")).text
    assert "You will not be on the card" in form


def test_the_access_log_keeps_no_card_token():
    arguments = ("ip", "GET", "/family/Ab-c_1")
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", arguments, None
    )
    assert RedactAccessLog().filter(record)
    assert record.getMessage() == "ip GET /family/[token]"


async def test_administrators_count_current_cards_by_council_and_retention_removes_them(
    client, settings
):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id)
    await share(client, mia.id, method="qr", email="")
    assert await family.current_cards_by_council(None) == {mia.area_id: 2}
    assert await family.current_cards_by_council([mia.area_id + 1]) == {}
    await sign_in(client, await support.local_admin("grace.okafor@mav.example"))
    overview = await client.get("/admin")
    assert "Family cards in use: 2" in overview.text and "Jade" not in overview.text
    with clock.shifted(timedelta(days=31)):
        assert await family.current_cards_by_council(None) == {}
    await Membership.filter(client=mia).update(ended_at=clock.now())
    await mia.filter(id=mia.id).update(team_empty_since=clock.now() - timedelta(days=800))
    removed = await retention.apply(settings)
    assert removed.family_cards == 2
    assert not await FamilyCard.exists() and not await FamilyCardAgreement.exists()
