"""Inviting a colleague to a client's team: someone on Patchwork gets an alert with a link to
join; someone new gets an invitation that, once accepted, lands them on this team."""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.invitations import VALID_DAYS, Invitation
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner
from models.teams import Membership
from web import access, audit
from web.alerts import alert
from web.auth import me, now, public, signed_in, token_hash
from web.notify import enqueue_email
from web.render import page_or_block
from web.settings import Settings
from web.signin import EMAIL_SHAPE, normalise_email
from web.teams import team_or_refusal

ABOUT = (
    "Patchwork shows frontline practitioners which other professionals are working with the "
    "same client, and how to reach them. It connects people: it holds no case notes."
)


@signed_in
async def invite_form(request: Request) -> Response:
    """Invite a colleague to this team, by email."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    return page_or_block(
        request, "teams/invite.html", {"client": client, "email": "", "errors": {}, "tab": "team"}
    )


@signed_in
async def invite(request: Request) -> Response:
    """Send the invitation (or, for someone already on Patchwork, an alert)."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    settings: Settings = request.app.state.settings
    email = normalise_email(str((await request.form()).get("email", "")))
    colleague = await Practitioner.get_or_none(email=email)
    problem = ""
    if not EMAIL_SHAPE.match(email):
        problem = "Enter your colleague's work email address"
    elif colleague is not None and not colleague.active:
        problem = "That colleague's account is deactivated"
    elif (
        colleague is not None
        and await Membership.filter(
            access.current(), client_id=client.id, practitioner_id=colleague.id
        ).exists()
    ):
        problem = "That colleague is already on this team"
    if problem:
        return page_or_block(
            request,
            "teams/invite.html",
            {"client": client, "email": email, "errors": {"email": problem}, "tab": "team"},
            status_code=422,
        )
    async with in_transaction():
        if colleague is not None:
            await alert(
                settings,
                [colleague],
                "invited_to_team",
                client_id=client.id,
                actor_id=me(request).id,
                url=f"/clients/{client.id}/join",
            )
        else:
            token = secrets.token_urlsafe(32)
            await Invitation.create(
                email=email,
                token_hash=token_hash(token),
                invited_by=me(request),
                client=client,
                sent_at=now(),
                expires_at=now() + timedelta(days=VALID_DAYS),
            )
            await enqueue_email(
                email,
                "You're invited to Patchwork",
                f"A colleague has invited you to Patchwork, to join the team around one of "
                f"their clients.\n\n{ABOUT}\n\nAccept the invitation (it works for {VALID_DAYS} "
                f"days): {settings.base_url}/invitations/{token}\n",
            )
        await audit.record(
            request,
            "team.invited",
            client_id=client.id,
            area_id=client.area_id,
            existing=colleague is not None,
        )
    return RedirectResponse(f"/clients/{client.id}?done=invited", status_code=303)


# -- accepting an invitation -----------------------------------------------------------------


async def open_invitation(token: str) -> Invitation | None:
    """A valid invitation: not expired, revoked or already accepted."""
    return await Invitation.get_or_none(
        token_hash=token_hash(token),
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now(),
    ).select_related("client")


async def acceptance_page(
    request: Request,
    invitation: Invitation,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    organisations = await Organisation.all().order_by("service_type", "name")
    if not form.get("organisation_id"):
        owner = await OrganisationDomain.get_or_none(domain=invitation.email.rsplit("@", 1)[-1])
        form = {**form, "organisation_id": str(owner.organisation_id) if owner else ""}  # type: ignore[attr-defined]
    return page_or_block(
        request,
        "invitations/accept.html",
        {
            "invitation": invitation,
            "form": form,
            "errors": errors,
            "organisations": organisations,
            "token": request.path_params["token"],
            "about": ABOUT,
        },
        status_code=status_code,
    )


def expired(request: Request) -> Response:
    from web.errors import error_page

    return error_page(
        request,
        410,
        "Ask the colleague who invited you to send a new invitation.",
        title="This invitation has expired or was already used",
    )


@public
async def accept_form(request: Request) -> Response:
    """The page an invitation opens: who you are, then straight to the team."""
    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return expired(request)
    empty = {"name": "", "job_title": "", "organisation_id": "", "phone": ""}
    return await acceptance_page(request, invitation, empty, {})


@public
async def accept(request: Request) -> Response:
    """Create the practitioner, sign them in, and put them on the team they were invited to."""
    from web.membership import join
    from web.signin import complete_signin

    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return expired(request)
    raw = await request.form()
    form = {
        k: str(raw.get(k, "")).strip() for k in ("name", "job_title", "organisation_id", "phone")
    }
    errors = {}
    if not form["name"] or len(form["name"]) > 120:
        errors["name"] = "Enter your full name"
    if not form["job_title"] or len(form["job_title"]) > 120:
        errors["job_title"] = "Enter your job title"
    organisation = (
        await Organisation.get_or_none(id=int(form["organisation_id"]))
        if form["organisation_id"].isdigit()
        else None
    )
    if organisation is None:
        errors["organisation_id"] = "Choose your organisation"
    if len(form["phone"]) > 40:
        errors["phone"] = "Enter a phone number of 40 characters or fewer"
    if errors or await Practitioner.exists(email=invitation.email):
        errors = errors or {"name": "You already have an account: sign in instead"}
        return await acceptance_page(request, invitation, form, errors, status_code=422)
    async with in_transaction():
        practitioner = await Practitioner.create(
            email=invitation.email,
            name=form["name"],
            job_title=form["job_title"],
            organisation=organisation,
            phone=form["phone"],
            role=invitation.role,
        )
        taken = await Invitation.filter(id=invitation.id, accepted_at__isnull=True).update(
            accepted_at=now(), accepted_by_id=practitioner.id
        )
        if not taken:
            raise RuntimeError("invitation accepted twice at once")
        await audit.record(
            request, "signup.completed", actor_id=practitioner.id, invitation_id=invitation.id
        )
        target = "/"
        if invitation.client is not None:
            await join(request, practitioner, invitation.client, practitioner.job_title)
            target = f"/clients/{invitation.client.id}"
    response = RedirectResponse(target, status_code=303)
    return await complete_signin(request, practitioner, "email", response)


routes = [
    Route("/clients/{client_id:int}/invite", invite_form, methods=["GET"]),
    Route("/clients/{client_id:int}/invite", invite, methods=["POST"]),
    Route("/invitations/{token}", accept_form, methods=["GET"]),
    Route("/invitations/{token}", accept, methods=["POST"]),
]
