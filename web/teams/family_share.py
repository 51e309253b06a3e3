"""Sharing the team with the family: one page to confirm that the client (or the carer named)
agreed and that it is safe, to name who receives it and to choose how; then the card.

Only a member the team can see may share (a discreet member would be revealed). The email
address is used once, for the message, and kept nowhere: not on the card, not in the audit,
and the outbox row is emptied once it is sent (web/core/family.py). A QR code is shown once,
on the member's phone, and never again: only the token's SHA-256 is kept.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.clients import Client
from models.family import FamilyCard, FamilyCardAgreement
from models.teams import Membership, TeamEvent
from web.core import audit, family, ratelimit
from web.core.alerts import alert, tell_team
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import too_many_requests
from web.core.notify import enqueue_email
from web.core.render import page_or_block
from web.core.settings import Settings
from web.teams.family_form import ATTEMPT_BYTES, checked, family_email
from web.teams.family_qr import qr_page
from web.teams.team import discreet_refusal, mine, place_changed, team_or_refusal

#: Cards one member may share an hour: each may email an address nobody checked.
CARDS_PER_HOUR = 10


def refused(request: Request, client: Client) -> Response:
    return discreet_refusal(
        request,
        client,
        "Sharing the team with the family",
        "Only visible members can share the team",
    )


def roster(team: list[Membership]) -> list[tuple[Membership, str]]:
    """Each member the sharer sees, and whether the card will show them (for the form)."""
    return [(member, family.shown_as(member)) for member in team]


def form_page(
    request: Request,
    client: Client,
    team: list[Membership],
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    values = {
        "agreed": "",
        "safe": "",
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
    if again is None:
        try:
            card = await shared(request, client, team, own, answers, token, url)
        except IntegrityError:  # the same form sent twice at once: the other one made it
            again = await FamilyCard.get_or_none(token_hash=family.token_hash(token))
        else:
            if isinstance(card, Response):
                return card
            if answers["method"] == "email":
                return RedirectResponse(f"/clients/{client.id}/family?done=emailed", 303)
            return qr_page(request, client, card, url)
    if again is not None and again.method == "qr" and again.withdrawn_at is None:
        if again.expires_at > now():
            return qr_page(request, client, again, url)
    return RedirectResponse(f"/clients/{client.id}/family?done=already", status_code=303)


async def shared(
    request: Request,
    client: Client,
    team: list[Membership],
    own: Membership,
    answers: dict[str, str],
    token: str,
    url: str,
) -> FamilyCard | Response:
    """In one transaction: the sharer still visible, the hourly limit (counted only for a card
    made), the card, and the team told; or why not."""
    settings: Settings = request.app.state.settings
    async with in_transaction():
        if not await family.hold_visible(own):
            return place_changed(request, client, "shared")
        if not await ratelimit.hit(f"family-card:share:{me(request).id}", CARDS_PER_HOUR):
            return too_many_requests(
                request,
                f"You have shared {CARDS_PER_HOUR} family cards in the last hour, the most "
                "Patchwork allows. Please try again in an hour.",
            )
        moment = now()  # after the hold: a leave waiting on it comes after this
        card = await made(request, client, own, answers, token, url, moment)
        asked = [m.practitioner for m in team if m is not own and family.shown_as(m) == "ask"]
        cards_page = f"/clients/{client.id}/family"
        await alert(
            settings, asked, "card_asked", client_id=client.id, actor_id=me(request).id,
            url=cards_page,
        )  # fmt: skip
        await tell_team(
            settings, client.id, me(request), "card_shared", cards_page,
            already_told=[p.id for p in asked],
        )  # fmt: skip
    return card


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
    if family.shown_as(own) == "ask":
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
