"""Inviting colleagues: to Patchwork, or to a client's team.

Someone already on Patchwork who is invited to a team gets an alert with a link to join;
someone new gets an invitation that, once they have signed up, lands them on that team.
Invitations last 14 days; whoever sent one can resend it (a new link) or withdraw it.

None of it can flood an inbox: an invitation is not sent again while one is waiting for that
address (to that client's team, or to Patchwork), a colleague already on Patchwork is alerted
once a day per client however often they are invited (the inviter is answered the same either
way, so it never tells who invited them first), and each practitioner may send
INVITATIONS_PER_HOUR invitations and resends an hour, then gets a 429 page saying why.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.invitations import VALID_DAYS, Invitation
from models.notifications import Notification
from models.practitioners import Practitioner
from web.core import access, audit, vouching
from web.core.alerts import alert
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.invitations import (
    invitation_waiting,
    send_invitation,
    too_many_invitations,
    within_invitation_limit,
)
from web.core.reauth import sign_in_again, signed_in_recently
from web.core.render import page_or_block
from web.core.scopes import administered_council_ids
from web.core.settings import Settings
from web.core.signins import normalise_email, valid_email
from web.teams.team import mine, team_or_refusal

#: A colleague already on Patchwork is alerted to one client's team at most this often.
REALERT_AFTER = timedelta(days=1)


@queries(PAGE)
@signed_in
async def invite_form(request: Request) -> Response:
    """Invite a colleague to this team, by email."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    return page_or_block(
        request,
        "teams/invite.html",
        {
            "client": client,
            "email": "",
            "errors": {},
            "tab": "team",
            "discreet": mine(request, team).discreet,
        },
    )


@queries(11)
@signed_in
async def invite(request: Request) -> Response:
    """Send the invitation (or, for someone already on Patchwork, an alert)."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    settings: Settings = request.app.state.settings
    email = normalise_email(str((await request.form()).get("email", "")))
    # Checked first: Tortoise refuses even to look up an address too long for the column.
    colleague = await Practitioner.get_or_none(email=email) if valid_email(email) else None
    problem = ""
    if not valid_email(email):
        problem = "Enter your colleague's work email address"
    elif colleague is not None and not colleague.active:
        problem = "That colleague's account is deactivated"
    elif colleague is not None and any(m.practitioner_id == colleague.id for m in team):
        # Only someone the inviter can see: a discreet member is invited like anyone else.
        problem = "That colleague is already on this team"
    elif colleague is None and await vouching.unvouchable(email, me(request).organisation):
        problem = vouching.SENSITIVE_UNVOUCHABLE
    elif colleague is None and await invitation_waiting(email, client_id=client.id):
        # Whoever sent it (a discreet member too): the same answer as for anyone's.
        problem = "That colleague already has an invitation to this team waiting"
    if problem:
        return page_or_block(
            request,
            "teams/invite.html",
            {
                "client": client,
                "email": email,
                "errors": {"email": problem},
                "tab": "team",
                "discreet": mine(request, team).discreet,
            },
            status_code=422,
        )
    if not await within_invitation_limit(request):
        return too_many_invitations(request)
    # Already alerted to this team today (by anyone): answered as if sent, alerted once.
    alerted_lately = colleague is not None and await Notification.exists(
        practitioner_id=colleague.id,
        kind="invited_to_team",
        client_id=client.id,
        created_at__gt=now() - REALERT_AFTER,
    )
    async with in_transaction():
        if colleague is not None and not alerted_lately:
            await alert(
                settings,
                [colleague],
                "invited_to_team",
                client_id=client.id,
                actor_id=None,  # the invitation never says who sent it
                # The email leads to the notification, whose link carries a fresh reference.
                url="/notifications",
            )
        elif colleague is None:
            await send_invitation(settings, email, me(request), client_id=client.id)
        await audit.record(
            request,
            "team.invited",
            client_id=client.id,
            area_id=client.area_id,
            existing=colleague is not None,
            alerted=colleague is not None and not alerted_lately,
        )
    return RedirectResponse(f"/clients/{client.id}?done=invited", status_code=303)


# -- inviting colleagues to Patchwork ------------------------------------------------------------


def status(invitation: Invitation) -> str:
    if invitation.accepted_at:
        return "accepted"
    if invitation.revoked_at:
        return "withdrawn"
    if invitation.expires_at <= now():
        return "expired"
    return "waiting"


async def invitations_page(
    request: Request, email: str = "", errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    """Who you invited, and what became of each invitation; an administrator also sees those
    in the councils they look after (a state administrator, everyone's)."""
    councils = await administered_council_ids(me(request))
    invitations = (
        await Invitation.filter(access.invitations_managed_by(me(request), councils))
        .select_related("invited_by", "accepted_by")
        .order_by("-created_at")
        .limit(200)
    )
    return page_or_block(
        request,
        "teams/invitations.html",
        {
            "invitations": invitations,
            "everyone": councils is None,
            "in_areas": bool(councils),
            "organisations": await vouching.nameable_organisations(
                me(request), request.state.directory_version
            ),
            "status": status,
            "email": email,
            "errors": errors or {},
            "valid_days": VALID_DAYS,
            "notice": request.query_params.get("done", ""),
        },
        status_code=status_code,
    )


@queries(PAGE)
@signed_in
async def index(request: Request) -> Response:
    return await invitations_page(request)


@queries(10)
@signed_in
async def invite_to_patchwork(request: Request) -> Response:
    """Invite a colleague to Patchwork by their work email, naming their organisation."""
    form = await request.form()
    email = normalise_email(str(form.get("email", "")))
    organisation = await vouching.named_organisation(me(request), form.get("organisation_id"))
    problem = ""
    if not valid_email(email):
        problem = "Enter your colleague's work email address, like name@council.vic.gov.au"
    elif await Practitioner.exists(email=email):
        problem = "That colleague is already on Patchwork: find them in the phone book"
    elif await invitation_waiting(email):
        problem = "That colleague already has an invitation waiting: resend it from the list"
    elif organisation is not None and await vouching.unvouchable(email, organisation):
        problem = vouching.SENSITIVE_UNVOUCHABLE
    if problem or organisation is None:
        errors = {"email": problem} if problem else {}
        if organisation is None:
            errors["organisation_id"] = "Choose an organisation from the list"
        return await invitations_page(request, email, errors, status_code=422)
    if not await within_invitation_limit(request):
        return too_many_invitations(request)
    async with in_transaction():
        invitation, _link = await send_invitation(
            request.app.state.settings, email, me(request), organisation=organisation
        )
        await audit.record(
            request,
            "invitation.sent",
            invitation_id=invitation.id,
            organisation_id=organisation.id,
        )
    return RedirectResponse("/invitations?done=sent", status_code=303)


async def own_waiting_invitation(request: Request) -> Invitation | None:
    """An unused invitation this practitioner may manage."""
    councils = await administered_council_ids(me(request))
    return await Invitation.get_or_none(
        access.invitations_managed_by(me(request), councils),
        id=request.path_params["invitation_id"],
        accepted_at__isnull=True,
    ).select_related("invited_by")


def needs_recent_signin(request: Request, invitation: Invitation, doing: str) -> Response | None:
    """An administrator changing a colleague's invitation must have signed in recently."""
    if invitation.invited_by_id == me(request).id or signed_in_recently(request):  # type: ignore[attr-defined]
        return None
    return sign_in_again(request, doing, "/invitations")


@queries(7)
@signed_in
async def resend(request: Request) -> Response:
    """Send a new link (the old one stops working) for another 14 days."""
    invitation = await own_waiting_invitation(request)
    if invitation is None:
        return RedirectResponse("/invitations", status_code=303)
    if (
        refusal := needs_recent_signin(request, invitation, "To resend a colleague's invitation")
    ) is not None:
        return refusal
    if not await within_invitation_limit(request):
        return too_many_invitations(request)
    async with in_transaction():
        invitation.revoked_at = None
        await send_invitation(
            request.app.state.settings,
            invitation.email,
            invitation.invited_by,
            client_id=invitation.client_id,  # type: ignore[attr-defined]
            invitation=invitation,
        )
        await audit.record(request, "invitation.resent", invitation_id=invitation.id)
    return RedirectResponse("/invitations?done=resent", status_code=303)


@queries(5)
@signed_in
async def revoke(request: Request) -> Response:
    """Withdraw an invitation: its link stops working at once."""
    invitation = await own_waiting_invitation(request)
    if invitation is not None and (
        refusal := needs_recent_signin(request, invitation, "To withdraw a colleague's invitation")
    ):
        return refusal
    if invitation is not None and invitation.revoked_at is None:
        async with in_transaction():
            invitation.revoked_at = now()
            await invitation.save(update_fields=["revoked_at"])
            await audit.record(request, "invitation.revoked", invitation_id=invitation.id)
    return RedirectResponse("/invitations?done=revoked", status_code=303)


routes = [
    Route("/clients/{client_id:int}/invite", invite_form, methods=["GET"]),
    Route("/clients/{client_id:int}/invite", invite, methods=["POST"]),
    Route("/invitations", index, methods=["GET"]),
    Route("/invitations", invite_to_patchwork, methods=["POST"]),
    Route("/invitations/{invitation_id:int}/resend", resend, methods=["POST"]),
    Route("/invitations/{invitation_id:int}/revoke", revoke, methods=["POST"]),
]
