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
from web.core.errors import loggable_path

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


async def test_a_refused_address_is_given_up_at_once_and_logged_masked(
    client, settings, monkeypatch
):
    """A mail server refusing the family's address (550) is not retried for hours: the row is
    given up and emptied at once, and the log names no address."""
    import aiosmtplib

    from web.alerts import mail, worker

    async def refuse(_settings, _message):
        address = SHARE["email"]
        raise aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(550, f"5.1.1 <{address}> no such user", address)]
        )

    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id)
    monkeypatch.setattr(mail, "send", refuse)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("patchwork.worker").addHandler(handler)
    try:
        assert await worker.deliver_due(settings) >= 1
    finally:
        logging.getLogger("patchwork.worker").removeHandler(handler)
    [row] = await Outbox.filter(id=(await FamilyCard.get()).outbox_id)
    assert row.failed_at is not None and row.attempts == 1
    assert (row.recipient, row.subject, row.body, row.last_error) == ("", "", "", "")
    logged = "\n".join(r.getMessage() for r in records)
    assert "SMTPRecipientsRefused" in logged and "[address]" in logged
    assert "jade.family" not in logged


async def test_tidying_empties_a_cards_email_a_stopped_worker_left(client, settings):
    from web.alerts import worker

    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id)
    card = await FamilyCard.get()
    # Sent, and the worker stopped before emptying it.
    await Outbox.filter(id=card.outbox_id).update(sent_at=clock.now())
    await worker.tidy(settings)
    row = await Outbox.get(id=card.outbox_id)
    assert (row.recipient, row.body) == ("", "")
    assert (await FamilyCard.get()).recipient == "Jade (mother)"  # still working: kept
    with clock.shifted(timedelta(days=31)):
        await worker.tidy(settings)
    assert (await FamilyCard.get()).recipient == ""  # expired: whom it went to is forgotten


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
    # Every opening audited, History showing the first of each day.
    assert sorted(actions) == sorted(
        ["family_card.shared", *["family_card.opened"] * 4, "family_card.withdrawn"]
    )
    events = await TeamEvent.filter(client=mia).order_by("id").values_list("kind", "actor_id")
    assert events == [
        ("card_shared", priya.id),
        ("card_opened", None),
        ("card_opened", None),
        ("card_withdrawn", priya.id),
    ]
    told = await Notification.filter(kind__startswith="card_").values_list(
        "practitioner_id", "kind"
    )
    # Aroha (child protection: asked for each card) is asked; Sam, discreet, only told.
    assert sorted(told) == sorted(
        [
            (aroha.id, "card_asked"),
            (sam.id, "card_shared"),
            (aroha.id, "card_withdrawn"),
            (sam.id, "card_withdrawn"),
        ]
    )
    history = (await client.get(f"/clients/{mia.id}/history")).text
    assert "Jade" not in history and "jade" not in history
    # Which card, by how and when it was given, never to whom.
    assert await TeamEvent.filter(client=mia, card_id=card.id).count() == 4
    shared_on, until = clock.as_local(card.created_at), clock.as_local(card.expires_at)
    day, last = f"{shared_on.day} {shared_on:%B}", f"{until.day} {until:%B}"
    assert f"shared the team with the family (a card by email, working until {last})" in history
    assert f"opened the card showing their team (emailed on {day}, working until {last})" in history
    assert f"withdrew the family&#39;s card (emailed on {day}, working until {last})" in history
    audited = await AuditEvent.filter(action__startswith="family_card.").values_list(
        "detail", flat=True
    )
    assert "Jade" not in repr(audited) and "example.com" not in repr(audited)


async def test_a_discreet_member_cannot_withdraw_a_card(client, phone):
    """Who withdrew, and who was told, would show the team someone it cannot see: a discreet
    member is refused (and asks a colleague, as for sharing); the card keeps working."""
    priya, _aroha, sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await share(client, mia.id)
    card = await FamilyCard.get()
    sam_http = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(sam_http, sam)
    cards = (await sam_http.get(f"/clients/{mia.id}/family")).text
    assert f"/family/{card.id}/withdraw" not in cards
    form = await sam_http.get(f"/clients/{mia.id}/family/{card.id}/withdraw")
    assert form.status_code == 403 and "discreetly" in form.text
    refused = await post(sam_http, f"/clients/{mia.id}/family/{card.id}/withdraw")
    assert refused.status_code == 403
    await sam_http.aclose()
    assert (await phone.get(f"/family/{token}")).status_code == 200
    assert not await TeamEvent.filter(kind="card_withdrawn").exists()
    assert not await Notification.filter(kind="card_withdrawn").exists()
    assert (await FamilyCard.get()).withdrawn_at is None
    # Priya withdraws it: whom it went to is forgotten at once.
    assert (await post(client, f"/clients/{mia.id}/family/{card.id}/withdraw")).status_code == 303
    assert (await FamilyCard.get()).recipient == ""


async def test_the_same_form_sent_twice_makes_one_card(client, phone):
    """A reload of the QR code's page sends its form again: the same card is shown again, and
    nothing more is made, told or counted; a new form makes a new card."""
    priya, aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    page = (await client.get(f"/clients/{mia.id}/family/share")).text
    attempt = re.search(r'name="attempt" value="([^"]+)"', page)
    assert attempt
    form = {**SHARE, "method": "qr", "attempt": attempt.group(1)}
    first = await share(client, mia.id, **form)
    assert await share(client, mia.id, **form) == first
    assert await FamilyCard.all().count() == 1
    assert await Notification.filter(practitioner_id=aroha.id).count() == 1
    emailed = {**SHARE, "attempt": "A" * 22}
    await share(client, mia.id, **emailed)
    again = await post(client, f"/clients/{mia.id}/family/share", **emailed)
    assert again.headers["location"].endswith("?done=already")
    assert await Outbox.filter(recipient=SHARE["email"]).count() == 1
    assert await FamilyCard.all().count() == 2
    assert await share(client, mia.id, method="qr") not in (first,)
    assert await FamilyCard.all().count() == 3


async def test_the_email_names_the_sharer_only_when_the_card_lists_them(client):
    priya, aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id)
    listed = await Outbox.get(recipient=SHARE["email"])
    assert "Priya, Maternal & Child Health Nurse at" in listed.body
    await Membership.filter(practitioner=priya, client=mia).update(family_listing="never")
    await Outbox.all().delete()
    await share(client, mia.id)
    unlisted = await Outbox.get(recipient=SHARE["email"])
    assert "Priya" not in unlisted.body and "Nurse" not in unlisted.body
    assert "Someone from the team working with Mia" in unlisted.body


async def test_a_recipient_is_read_as_the_eye_reads_it(client):
    """Full-width and invisible characters cannot slip an address or a number past the
    name-only rule."""
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    for sneaky in ("jade＠example．com", "Jade ０４００", "\u200b\u200b", "jade\u200b@example.com"):
        response = await post(
            client, f"/clients/{mia.id}/family/share", **{**SHARE, "recipient": sneaky}
        )
        assert response.status_code == 422, sneaky
    assert not await FamilyCard.exists()


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


@pytest.mark.parametrize(
    "path",
    ["/family/Ab-c_1", "/%66amily/Ab-c_1", "/family%2FAb-c_1", "/FAMILY/Ab-c_1", "//family/Ab-c_1"],
)
def test_the_access_log_keeps_no_card_token(path):
    """However the path is written that opens (or might open) a card, the log has no token."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("ip", "GET", path), None
    )
    assert RedactAccessLog().filter(record)
    assert record.getMessage() == "ip GET /family/[token]"


def test_a_logged_path_cannot_write_its_own_log_line():
    assert loggable_path("/clients/%0Ad%0D") == "/clients/%0Ad%0D"
    assert loggable_path("/x%22%20200%201234%20%22-") == "/x%22%20200%201234%20%22-"
    assert loggable_path("/x\u2028y\u202e") == "/x%E2%80%A8y%E2%80%AE"
    assert loggable_path("/clients/3/family/12?q=mia") == "/clients/3/family/12"


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
    assert await Outbox.filter(recipient=SHARE["email"]).exists()  # not sent yet
    removed = await retention.apply(settings)
    assert removed.family_cards == 2
    assert not await FamilyCard.exists() and not await FamilyCardAgreement.exists()
    assert not await Outbox.filter(recipient=SHARE["email"]).exists()  # gone with its card


async def test_never_in_the_profile_takes_them_off_the_cards_of_teams_that_follow_it(client):
    """Aroha agreed to a card, then chose "never" in her profile: she is off it, and choosing
    "ask" again asks her afresh instead of putting her back."""
    priya, aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id)
    card = await FamilyCard.get()
    aroha_http = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    await sign_in(aroha_http, aroha)
    asked = await Notification.get(practitioner_id=aroha.id)
    assert asked.kind == "card_asked"
    assert (await post(aroha_http, f"/clients/{mia.id}/family/{card.id}/agree")).status_code == 303
    assert await FamilyCardAgreement.filter(practitioner=aroha).exists()
    for choice in ("never", "ask"):
        saved = await post(aroha_http, "/profile/family-cards", family_listing=choice)
        assert saved.status_code == 303
    await aroha_http.aclose()
    assert not await FamilyCardAgreement.filter(practitioner=aroha).exists()


async def test_no_other_keyed_hash_of_the_secret_is_a_cards_token(client, phone, settings):
    """The CSRF token is a keyed hash of a cookie the browser chooses: set it to what a card's
    token is made from, and what comes back must not open the card."""
    import base64

    from web.core import cookies

    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    await share(client, mia.id, attempt="B" * 22)
    assert (
        await phone.get(
            f"/family/{family.card_token(settings.secret_key, priya.id, mia.id, 'B' * 22)}"
        )
    ).status_code == 200
    chosen = f"family-card:{priya.id}:{mia.id}:{'B' * 22}"
    forged = cookies.token_for(settings, chosen)
    for key in (forged, base64.urlsafe_b64encode(bytes.fromhex(forged)).rstrip(b"=").decode()):
        assert (await phone.get(f"/family/{key}")).status_code == 404


async def test_the_same_form_sent_four_times_at_once_makes_one_card_and_no_error(client):
    import asyncio

    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    token = await csrf_token(client, "/")
    form = {**SHARE, "method": "qr", "attempt": "C" * 22, "csrf_token": token}
    path = f"/clients/{mia.id}/family/share"
    answers = await asyncio.gather(*(client.post(path, data=form) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [200] * 4
    assert len({TOKEN.search(r.text).group(1) for r in answers}) == 1
    assert await FamilyCard.all().count() == 1


async def test_a_mistake_elsewhere_keeps_the_agreement_ticks(client):
    priya, _aroha, _sam, mia = await thompsons()
    await sign_in(client, priya)
    again = await post(client, f"/clients/{mia.id}/family/share", **{**SHARE, "email": ""})
    assert again.status_code == 422
    assert 'id="agreed" name="agreed" value="yes" checked' in again.text
    assert 'id="safe" name="safe" value="yes" checked' in again.text
    assert "Enter their email address" in again.text and "Confirm that" not in again.text
