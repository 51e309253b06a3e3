"""Inviting colleagues: to Patchwork, or to a client's team.

Someone already on Patchwork who is invited to a team gets an alert with a link to join;
someone new gets an invitation that, once they have signed up, lands them on that team.
Invitations last 14 days; whoever sent one can resend it (a new link) or withdraw it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.invitations import VALID_DAYS, Invitation
from models.practitioners import Practitioner
from web import access, audit, vouching
from web.alerts import alert
from web.auth import me, now, signed_in
from web.render import page_or_block
from web.settings import Settings
from web.signin import EMAIL_SHAPE, normalise_email
from web.signup import send_invitation
from web.teams import mine, team_or_refusal


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


@signed_in
async def invite(request: Request) -> Response:
    """Send the invitation (or, for someone already on Patchwork, an alert)."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    settings: Settings = request.app.state.settings
    email = normalise_email(str((await request.form()).get("email", "")))
    colleague = await Practitioner.get_or_none(email=email)
    problem = ""
    if not EMAIL_SHAPE.match(email):
        problem = "Enter your colleague's work email address"
    elif colleague is not None and not colleague.active:
        problem = "That colleague's account is deactivated"
    elif colleague is not None and any(m.practitioner_id == colleague.id for m in team):
        # Only someone the inviter can see: a discreet member is invited like anyone else.
        problem = "That colleague is already on this team"
    elif colleague is None and await vouching.unvouchable(email, me(request).organisation):
        problem = vouching.SENSITIVE_UNVOUCHABLE
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
    async with in_transaction():
        if colleague is not None:
            await alert(
                settings,
                [colleague],
                "invited_to_team",
                client_id=client.id,
                actor_id=None,  # the invitation never says who sent it
                # The email leads to the notification, whose link carries a fresh reference.
                url="/notifications",
            )
        else:
            await send_invitation(settings, email, me(request), client_id=client.id)
        await audit.record(
            request,
            "team.invited",
            client_id=client.id,
            area_id=client.area_id,
            existing=colleague is not None,
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
    """Who you invited, and what became of each invitation. Administrators see everyone's."""
    invitations = (
        await Invitation.filter(access.invitations_managed_by(me(request)))
        .select_related("invited_by", "accepted_by")
        .order_by("-created_at")
        .limit(200)
    )
    return page_or_block(
        request,
        "invitations/index.html",
        {
            "invitations": invitations,
            "everyone": access.manages_every_invitation(me(request)),
            "organisations": await vouching.nameable_organisations(me(request)),
            "status": status,
            "email": email,
            "errors": errors or {},
            "valid_days": VALID_DAYS,
            "notice": request.query_params.get("done", ""),
        },
        status_code=status_code,
    )


@signed_in
async def index(request: Request) -> Response:
    return await invitations_page(request)


@signed_in
async def invite_to_patchwork(request: Request) -> Response:
    """Invite a colleague to Patchwork by their work email, naming their organisation."""
    form = await request.form()
    email = normalise_email(str(form.get("email", "")))
    organisation = await vouching.named_organisation(me(request), form.get("organisation_id"))
    problem = ""
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        problem = "Enter your colleague's work email address, like name@council.vic.gov.au"
    elif await Practitioner.exists(email=email):
        problem = "That colleague is already on Patchwork: find them in the phone book"
    elif await Invitation.exists(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now()
    ):
        problem = "That colleague already has an invitation waiting: resend it from the list"
    elif organisation is not None and await vouching.unvouchable(email, organisation):
        problem = vouching.SENSITIVE_UNVOUCHABLE
    if problem or organisation is None:
        errors = {"email": problem} if problem else {}
        if organisation is None:
            errors["organisation_id"] = "Choose an organisation from the list"
        return await invitations_page(request, email, errors, status_code=422)
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
    return await Invitation.get_or_none(
        access.invitations_managed_by(me(request)),
        id=request.path_params["invitation_id"],
        accepted_at__isnull=True,
    ).select_related("invited_by")


@signed_in
async def resend(request: Request) -> Response:
    """Send a new link (the old one stops working) for another 14 days."""
    invitation = await own_waiting_invitation(request)
    if invitation is None:
        return RedirectResponse("/invitations", status_code=303)
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


@signed_in
async def revoke(request: Request) -> Response:
    """Withdraw an invitation: its link stops working at once."""
    invitation = await own_waiting_invitation(request)
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
