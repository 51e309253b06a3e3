"""The family's cards, from the team's side: the cards still working (any member may see
what one shows and withdraw it), and each member's choice to be listed on them.

Who a card lists is worked out on every view (web/core/family.py), so choosing "never" for a
team takes a member off its cards at once, and agreeing to one puts them on it at once.
Sharing a card is web/teams/family_share.py; the family's own page is web/family/card.py.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import RawSQL
from tortoise.transactions import in_transaction

from models.clients import Client
from models.family import LISTINGS, FamilyCard, FamilyCardAgreement
from models.notifications import Outbox
from models.teams import Membership, TeamEvent
from web.core import audit, family
from web.core.alerts import tell_team
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block
from web.teams.team import discreet_refusal, mine, place_changed, team_or_refusal


def agreed_by(practitioner_id: int) -> RawSQL:
    """Whether `practitioner_id` agreed to be on each card (an annotation: no extra query)."""
    return RawSQL(
        "EXISTS (SELECT 1 FROM family_card_agreement a WHERE a.card_id = "
        f'"family_card"."id" AND a.practitioner_id = {int(practitioner_id)})'
    )


def names_of(team: list[Membership]) -> dict[int, str]:
    """Who the viewer may see named: the team as they see it (never someone discreet)."""
    return {m.practitioner_id: m.practitioner.name for m in team}  # type: ignore[attr-defined]


@queries(PAGE)
@signed_in
async def cards(request: Request) -> Response:
    """The family's cards still working, and your choice to be listed on them."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    shown = (
        await FamilyCard.filter(family.current_cards(), client_id=client.id)
        .annotate(agreed=agreed_by(me(request).id))
        .order_by("-created_at", "-id")
    )
    return page_or_block(
        request,
        "teams/family.html",
        {
            "client": client,
            "mine": own,
            "cards": shown,
            "dates": {
                c.id: (family.long_date(c.created_at), family.long_date(c.expires_at))
                for c in shown
            },
            "names": names_of(team),
            "never_shown": family.never_shown(own),
            "listing": family.listing_of(own),
            # Asked because they chose it (for this team or in their profile), or by default.
            "chose_ask": "ask" in (own.family_listing, me(request).family_listing),
            "profile_listing": family.listing(
                "", me(request).family_listing, me(request).organisation.service_type
            ),
            "notice": request.query_params.get("done", ""),
            "tab": "team",
        },
    )


async def card_of(client: Client, request: Request) -> FamilyCard:
    """The path's card, if it is one of this client's still working (else 404)."""
    card = await FamilyCard.get_or_none(
        family.current_cards(), id=int(request.path_params["card_id"]), client_id=client.id
    )
    if card is None:
        raise HTTPException(404)
    return card


@queries(PAGE)
@signed_in
async def preview(request: Request) -> Response:
    """What the family sees on this card now, as they see it."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    card = await family.card_by_id(int(request.path_params["card_id"]), client.id)
    if card is None:
        raise HTTPException(404)
    values = family.card_values(request.app.state.settings, card, preview=True)
    return page_or_block(request, "family/card.html", values, headers=family.HEADERS)


@queries(6)
@signed_in
async def agree(request: Request) -> Response:
    """Put yourself on one card ("ask me each time"), or take yourself off it again."""
    found = await team_or_refusal(request, record_view=False)
    if isinstance(found, Response):
        return found
    client, team = found
    card = await card_of(client, request)
    wanted = request.url.path.endswith("/agree")
    async with in_transaction():
        if wanted:
            await FamilyCardAgreement.bulk_create(
                [FamilyCardAgreement(card=card, practitioner=me(request), at=now())],
                ignore_conflicts=True,
            )
        else:
            await FamilyCardAgreement.filter(card=card, practitioner_id=me(request).id).delete()
        await audit.record(
            request,
            "family_card.listed",
            client_id=client.id,
            area_id=client.area_id,
            card_id=card.id,
            listed=wanted,
        )
    done = "agreed" if wanted else "unlisted"
    return RedirectResponse(f"/clients/{client.id}/family?done={done}", status_code=303)


@queries(6)
@signed_in
async def choose_listing(request: Request) -> Response:
    """Whether this team's cards list you: as your profile says, always, each time, never."""
    found = await team_or_refusal(request, record_view=False)
    if isinstance(found, Response):
        return found
    client, team = found
    choice = str((await request.form()).get("listing", ""))
    if choice not in ("", *LISTINGS):
        raise HTTPException(400, "That choice was not understood.")
    own = mine(request, team)
    async with in_transaction():
        await Membership.filter(id=own.id).update(family_listing=choice)
        practitioner = me(request)
        service = practitioner.organisation.service_type
        if family.listing(choice, practitioner.family_listing, service) == "never":
            await family.off_cards(practitioner.id, [client.id])
        await audit.record(
            request, "family_card.listing", client_id=client.id, area_id=client.area_id,
            listing=choice or "profile",
        )  # fmt: skip
    return RedirectResponse(f"/clients/{client.id}/family?done=listing", status_code=303)


def withdrawal_refused(request: Request, client: Client) -> Response:
    return discreet_refusal(
        request, client, "Withdrawing a family card", "Only visible members can withdraw a card"
    )


@queries(PAGE)
@signed_in
async def withdraw_form(request: Request) -> Response:
    """Confirm withdrawing a card: its link stops working at once."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    card = await card_of(client, request)
    if mine(request, team).discreet:
        return withdrawal_refused(request, client)
    return page_or_block(
        request,
        "teams/family_withdraw.html",
        {"client": client, "card": card, "mine": mine(request, team), "tab": "team"},
    )


@queries(14)
@signed_in
async def withdraw(request: Request) -> Response:
    """Withdraw a card: any member the team can see may, named or not. A discreet member may
    not: who is told, and who withdrew, would show the team someone it cannot see is there
    (they ask a colleague, as for sharing)."""
    found = await team_or_refusal(request, record_view=False)
    if isinstance(found, Response):
        return found
    client, team = found
    card = await card_of(client, request)
    own = mine(request, team)
    if own.discreet:
        return withdrawal_refused(request, client)
    named = (await request.form()).get("unnamed") != "yes"
    actor = me(request) if named else None
    async with in_transaction():
        if not await family.hold_visible(own):
            return place_changed(request, client, "withdrawn")
        moment = now()
        withdrawn = await FamilyCard.filter(id=card.id, withdrawn_at__isnull=True).update(
            # Whom it went to is needed no more: only a current card shows it.
            withdrawn_at=moment,
            withdrawn_by_id=actor.id if actor else None,
            recipient="",
        )
        if not withdrawn:  # someone else was quicker: nothing more to tell
            return RedirectResponse(f"/clients/{client.id}/family?done=withdrawn", 303)
        if card.outbox_id is not None:
            # Not sent yet: it never will be, and the address goes now.
            await Outbox.filter(id=card.outbox_id, sent_at__isnull=True).update(
                failed_at=moment, recipient="", subject="", body="", last_error="withdrawn"
            )
        await TeamEvent.create(
            client=client, kind="card_withdrawn", actor=actor, at=moment, card_id=card.id
        )
        await audit.record(
            request, "family_card.withdrawn", client_id=client.id, area_id=client.area_id,
            card_id=card.id, named=named,
        )  # fmt: skip
        await tell_team(
            request.app.state.settings,
            client.id,
            me(request),
            "card_withdrawn",
            f"/clients/{client.id}/history",
            named=named,
        )
    return RedirectResponse(f"/clients/{client.id}/family?done=withdrawn", status_code=303)


routes = [
    Route("/clients/{client_id:int}/family", cards, methods=["GET"]),
    Route("/clients/{client_id:int}/family/listing", choose_listing, methods=["POST"]),
    Route("/clients/{client_id:int}/family/{card_id:int}", preview, methods=["GET"]),
    Route("/clients/{client_id:int}/family/{card_id:int}/agree", agree, methods=["POST"]),
    Route("/clients/{client_id:int}/family/{card_id:int}/unlist", agree, methods=["POST"]),
    Route("/clients/{client_id:int}/family/{card_id:int}/withdraw", withdraw_form, methods=["GET"]),
    Route("/clients/{client_id:int}/family/{card_id:int}/withdraw", withdraw, methods=["POST"]),
]
