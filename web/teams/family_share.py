"""Sharing the team with the family: one page to confirm that the client (or the carer named)
agreed and that it is safe, to name who receives it and to choose how; then the card.

Only a member the team can see may share (a discreet member would be revealed). The email
address is used once, for the message, and kept nowhere: not on the card, not in the audit,
and the outbox row is emptied once it is sent (web/core/family.py). A QR code is shown once,
on the member's phone, and never again: only the token's SHA-256 is kept.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.clients import Client
from models.family import METHODS, FamilyCard, FamilyCardAgreement
from models.teams import Membership, TeamEvent
from web.core import audit, family, ratelimit
from web.core.alerts import alert, tell_team
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import too_many_requests
from web.core.forms import plain
from web.core.notify import enqueue_email
from web.core.render import page_or_block
from web.core.settings import Settings
from web.core.signins import normalise_email, valid_email
from web.teams.family_qr import qr_page
from web.teams.team import discreet_refusal, mine, team_or_refusal

#: Cards one member may share an hour: each may email an address nobody checked.
CARDS_PER_HOUR = 10
#: A digit: a phone number or a street address, not a name.
NUMBERS = re.compile(r"\d")
#: The random value each share form carries, so that sending it twice makes one card (a form
#: without a proper one, from an old page, still shares: once for each sending).
ATTEMPT_BYTES = 16
ATTEMPT = re.compile(r"[A-Za-z0-9_-]{22}")


def refused(request: Request, client: Client) -> Response:
    return discreet_refusal(
        request,
        client,
        "Sharing the team with the family",
        "Only visible members can share the team",
    )


def roster(team: list[Membership]) -> list[tuple[Membership, str]]:
    """Each member the sharer sees, and whether the card will show them (for the form)."""
    shown = []
    for member in team:
        if not member.practitioner.active:
            shown.append((member, "inactive"))
        elif family.never_shown(member):
            shown.append((member, "hidden"))
        else:
            shown.append((member, family.listing_of(member)))
    return shown


def form_page(
    request: Request,
    client: Client,
    team: list[Membership],
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    values = {
        "recipient": "",
        "method": "",
        "email": "",
        "days": str(family.VALID_DAYS),
        "attempt": secrets.token_urlsafe(ATTEMPT_BYTES),
    }
    shown = roster(team)
    own = mine(request, team)
    lead = next(((member, how) for member, how in shown if member.lead), None)
    return page_or_block(
        request,
        "teams/family_share.html",
        {
            "client": client,
            "mine": own,
            "roster": shown,
            "own_how": next(how for member, how in shown if member is own),
            # The card's main contact is the lead only once the lead is on it.
            "lead_waits": lead[0].practitioner.name
            if lead and lead[1] == "ask" and lead[0] is not own
            else "",
            "lead_hidden": bool(lead and lead[1] in ("never", "hidden", "inactive")),
            "form": {**values, **(form or {})},
            "errors": errors or {},
            "day_choices": family.DAY_CHOICES,
            "tab": "team",
        },
        status_code=422 if errors else 200,
    )


@queries(PAGE)
@signed_in
async def share_form(request: Request) -> Response:
    """The one page to confirm before a card is made."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    if mine(request, team).discreet:
        return refused(request, client)
    return form_page(request, client, team)


def checked(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    """The form's answers, and what is wrong with them, by field."""
    attempt = str(form.get("attempt", ""))
    answers = {
        "recipient": plain(str(form.get("recipient", ""))),
        "method": str(form.get("method", "")),
        "email": normalise_email(str(form.get("email", ""))),
        "days": str(form.get("days", "")),
        "attempt": attempt if ATTEMPT.fullmatch(attempt) else secrets.token_urlsafe(ATTEMPT_BYTES),
    }
    errors = {}
    if form.get("agreed") != "yes":
        errors["agreed"] = "Confirm that the person you name has agreed to get the card"
    if form.get("safe") != "yes":
        errors["safe"] = "Confirm that showing the team is safe"
    recipient = answers["recipient"]
    if not recipient:
        errors["recipient"] = "Write who will receive the card, like Jade (mother)"
    elif len(recipient) > 60:
        errors["recipient"] = "Write a name and how they are related only, up to 60 letters"
    elif "@" in recipient or NUMBERS.search(recipient):
        errors["recipient"] = "Write a name only: no email address, phone number or address"
    if answers["method"] not in METHODS:
        errors["method"] = "Choose how to give them the card"
    elif answers["method"] == "email" and not valid_email(answers["email"]):
        errors["email"] = "Enter their email address, like name@example.com"
    if answers["days"] not in {str(d) for d in family.DAY_CHOICES}:
        errors["days"] = "Choose how long the card works"
    return answers, errors


def family_email(sharer: Membership, client: Client, url: str, until: str) -> str:
    """The email to the family: the link, and who sent it (as the card shows them, if it does)."""
    child = family.first_name(client.given_name)
    who = (
        f"{family.first_name(sharer.practitioner.name)}, {sharer.role} at "
        f"{sharer.practitioner.organisation.name},"
        if family.listed_sharer(sharer)
        else f"Someone from the team working with {child}"
    )
    return (
        f"Hello,\n\n{who} has sent you this link. It shows the people who work with {child}"
        f" and your family, and how to call them.\n\n{url}\n\n"
        f"The link works until {until}. Please keep it private: anyone with the link can see "
        "the page.\n\nIf you were not expecting this email, you can ignore it.\n\nPatchwork"
    )


# Session, team, view, an earlier sending's card, limit, hold, email, card, agreement, History,
# audit; then two alerts (the asked, the rest): notifications, emails, push subscriptions.
@queries(20)
@signed_in
async def share(request: Request) -> Response:
    """Make the card: emailed (then back to the family's cards) or shown as a QR code now. The
    same form sent again (a reload) shows that card again, and makes, sends and tells nothing."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    if own.discreet:
        return refused(request, client)
    answers, errors = checked(await request.form())
    if errors:
        return form_page(request, client, team, answers, errors)
    settings: Settings = request.app.state.settings
    token = family.card_token(settings.secret_key, me(request).id, client.id, answers["attempt"])
    url = f"{settings.base_url}/family/{token}"
    again = await FamilyCard.get_or_none(token_hash=family.token_hash(token), client_id=client.id)
    if again is not None:
        if again.method == "qr" and again.withdrawn_at is None and again.expires_at > now():
            return qr_page(request, client, again, url)
        return RedirectResponse(f"/clients/{client.id}/family?done=already", status_code=303)
    if not await ratelimit.hit(f"family-card:share:{me(request).id}", CARDS_PER_HOUR):
        return too_many_requests(
            request,
            f"You have shared {CARDS_PER_HOUR} family cards in the last hour, the most "
            "Patchwork allows. Please try again in an hour.",
        )
    async with in_transaction():
        if not await family.hold_visible(own):
            return refused(request, client)  # they went discreet or left a moment ago
        moment = now()  # after the hold: a leave waiting on it comes after this
        card = await made(request, client, own, answers, token, url, moment)
        asked = [
            m.practitioner
            for m in team
            if m is not own and not family.never_shown(m) and family.listing_of(m) == "ask"
        ]
        cards_page = f"/clients/{client.id}/family"
        await alert(
            settings, asked, "card_asked", client_id=client.id, actor_id=me(request).id,
            url=cards_page,
        )  # fmt: skip
        await tell_team(
            settings, client.id, me(request), "card_shared", cards_page,
            already_told=[p.id for p in asked],
        )  # fmt: skip
    if answers["method"] == "email":
        return RedirectResponse(f"/clients/{client.id}/family?done=emailed", status_code=303)
    return qr_page(request, client, card, url)


async def made(
    request: Request,
    client: Client,
    own: Membership,
    answers: dict[str, str],
    token: str,
    url: str,
    moment: datetime,
) -> FamilyCard:
    """The card, its email queued, the sharer's agreement, History's line and the audit."""
    expires = moment + timedelta(days=int(answers["days"]))
    card = FamilyCard(
        token_hash=family.token_hash(token),
        client=client,
        recipient=answers["recipient"],
        method=answers["method"],
        created_by=me(request),
        created_at=moment,
        expires_at=expires,
    )
    if answers["method"] == "email":
        queued = await enqueue_email(
            answers["email"],
            "A link from Patchwork: who works with your family",
            family_email(own, client, url, family.long_date(expires)),
            urgent=True,
        )
        card.outbox_id = queued.id
    await card.save()
    if not family.never_shown(own) and family.listing_of(own) == "ask":
        # Sharing it is agreeing to be on it.
        await FamilyCardAgreement.create(card=card, practitioner=me(request), at=moment)
    await TeamEvent.create(
        client=client, kind="card_shared", actor=me(request), at=moment, card_id=card.id
    )
    # The audit keeps neither the recipient nor the address: ids, how, how long.
    await audit.record(
        request,
        "family_card.shared",
        client_id=client.id,
        area_id=client.area_id,
        card_id=card.id,
        method=answers["method"],
        days=int(answers["days"]),
    )
    return card


routes = [
    Route("/clients/{client_id:int}/family/share", share_form, methods=["GET"]),
    Route("/clients/{client_id:int}/family/share", share, methods=["POST"]),
]
