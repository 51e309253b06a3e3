"""Two ways in, both proven by a link emailed to a work address.

An invitation from a colleague (or `python -m web invite-admin`), or self-signup with an email
whose domain belongs to a registered organisation. Opening the link creates the practitioner
and signs them in; the questions that follow are web/signup/steps.py.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.invitations import Invitation
from models.practitioners import Practitioner
from web.core import audit, ratelimit, vouching
from web.core.audit import client_ip
from web.core.auth import now, public, token_hash
from web.core.budgets import PAGE, queries
from web.core.errors import error_page, too_many_requests
from web.core.invitations import ABOUT, open_invitation
from web.core.notify import enqueue_email
from web.core.render import page_or_block
from web.core.settings import Settings
from web.core.signins import complete_signin, normalise_email, send_signin_link, valid_email
from web.core.vouching import domain_of, organisations_for

VERIFY_DAYS = 1


SIGNUPS_PER_IP_PER_HOUR = 20


def unusable(request: Request) -> Response:
    return error_page(
        request,
        410,
        "Invitations work for 14 days and only once, and can be withdrawn. Ask the colleague "
        "who invited you to send a new one, or sign in if you already have an account.",
        title="This invitation has expired or can no longer be used",
        action_url="/signin",
        action_label="Sign in",
    )


@queries(PAGE)
@public
async def welcome(request: Request) -> Response:
    """The page an invitation or verification link opens: what Patchwork is, then start."""
    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return unusable(request)
    return page_or_block(
        request,
        "signup/welcome.html",
        {"invitation": invitation, "about": ABOUT, "token": request.path_params["token"]},
    )


class InvitationTaken(Exception):
    """Another request accepted the same invitation first."""


@queries(10)
@public
async def start(request: Request) -> Response:
    """Create the practitioner from the invitation, sign them in, and ask the first question.
    Opened twice at once (a double tap, two tabs), one request makes the account; the others
    make nothing and get the page any used invitation gives."""
    invitation = await open_invitation(request.path_params["token"])
    if invitation is None:
        return unusable(request)
    if await Practitioner.exists(email=invitation.email):
        if await open_invitation(request.path_params["token"]) is None:
            return unusable(request)  # accepted a moment ago, by the same person's other tap
        return error_page(
            request,
            409,
            "There is already a Patchwork account for this email address.",
            title="You already have an account",
            action_url="/signin",
            action_label="Sign in",
        )
    placed = await vouching.placement(invitation)
    if placed is None:
        return error_page(
            request,
            422,
            "No organisation on Patchwork owns this email address's domain yet. Ask your "
            "Patchwork administrator to add your organisation.",
            title="Your organisation is not on Patchwork yet",
        )
    try:
        async with in_transaction():
            practitioner = await Practitioner.create(
                email=invitation.email,
                name="",
                organisation=placed.organisation,
                organisation_vouched_by=placed.vouched_by,
                role=invitation.role,
                signup_step=0,
            )
            taken = await Invitation.filter(id=invitation.id, accepted_at__isnull=True).update(
                accepted_at=now(), accepted_by_id=practitioner.id
            )
            if not taken:
                raise InvitationTaken
            await audit.record(
                request,
                "signup.started",
                actor_id=practitioner.id,
                invitation_id=invitation.id,
                organisation_id=placed.organisation.id,
                vouched_by=placed.vouched_by.id if placed.vouched_by else None,
            )
    except (IntegrityError, InvitationTaken):
        # The winner's practitioner (unique email) or acceptance came first: this request's
        # transaction is rolled back, so nothing of it remains.
        return unusable(request)
    response = RedirectResponse("/signup/1", status_code=303)
    return await complete_signin(request, practitioner, "invitation", response)


@queries(PAGE)
@public
async def signup_form(request: Request) -> Response:
    return page_or_block(request, "signup/start.html", {"email": "", "errors": {}, "about": ABOUT})


@queries(7)
@public
async def request_signup(request: Request) -> Response:
    """Email a verification link to a work address whose domain an organisation owns."""
    email = normalise_email(str((await request.form()).get("email", "")))
    settings: Settings = request.app.state.settings
    if not valid_email(email):
        return signup_refused(
            request, email, "Enter your work email address, like name@council.vic.gov.au"
        )
    if not await ratelimit.hit(f"signup:ip:{client_ip(request)}", SIGNUPS_PER_IP_PER_HOUR):
        await audit.record(request, "signup.refused", reason="rate limit")
        return too_many_requests(request, "Too many signups from here. Try again in an hour.")
    if not await organisations_for(email):
        await audit.record(request, "signup.refused", reason="unknown domain")
        return signup_refused(
            request,
            email,
            f"Patchwork doesn't know {domain_of(email)} yet, so we can't check it's a work "
            "address. Ask a colleague who uses Patchwork to invite you: they can do it from "
            "their profile in a minute.",
        )
    existing = await Practitioner.get_or_none(email=email, active=True)
    async with in_transaction():
        if existing is not None:  # the same answer either way: just help them sign in
            await send_signin_link(request, existing, "/")
        else:
            await send_verification(settings, email)
        await audit.record(request, "signup.requested", known=existing is not None)
    return page_or_block(request, "signin/sent.html", {"email": email})


def signup_refused(request: Request, email: str, message: str) -> Response:
    return page_or_block(
        request,
        "signup/start.html",
        {"email": email, "errors": {"email": message}, "about": ABOUT},
        status_code=422,
    )


async def send_verification(settings: Settings, email: str) -> None:
    token = secrets.token_urlsafe(32)
    await Invitation.create(
        email=email,
        token_hash=token_hash(token),
        sent_at=now(),
        expires_at=now() + timedelta(days=VERIFY_DAYS),
    )
    await enqueue_email(
        email,
        "Confirm your email to join Patchwork",
        f"{ABOUT}\n\nTo confirm this is your work email and set up your account, open this "
        f"link (it works for 24 hours):\n{settings.base_url}/invitations/{token}\n\n"
        "If you did not ask to join Patchwork, you can ignore this email.\n",
        urgent=True,
    )


routes = [
    Route("/signup", signup_form, methods=["GET"]),
    Route("/signup", request_signup, methods=["POST"]),
    Route("/invitations/{token}", welcome, methods=["GET"]),
    Route("/invitations/{token}", start, methods=["POST"]),
]
