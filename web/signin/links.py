"""Signing in by emailed link, and signing out."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.auth import SignInToken
from models.practitioners import Practitioner
from web.core import audit, ratelimit
from web.core.audit import client_ip
from web.core.auth import (
    clear_session_cookie,
    now,
    public,
    safe_next,
    start_session,
    token_hash,
)
from web.core.notify import enqueue_email
from web.core.render import page_or_block

LINK_LIFETIME = timedelta(minutes=15)
#: Per client IP, generous: a whole clinic may share one address.
SIGNIN_PER_IP_PER_HOUR = 100
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    return value.strip().lower()


#: RFC 5321's limit, and the length of every email column.
MAX_EMAIL_LENGTH = 254


def valid_email(email: str) -> bool:
    """An address (already normalised) shaped like one that fits every email column: the one
    check every form that takes an email makes."""
    return len(email) <= MAX_EMAIL_LENGTH and EMAIL_SHAPE.match(email) is not None


@public
async def signin_form(request: Request) -> Response:
    """The sign-in page."""
    return page_or_block(
        request,
        "signin/form.html",
        {
            "errors": {},
            "email": "",
            "next": safe_next(request.query_params.get("next")),
            "notice": "You have signed out." if "signed_out" in request.query_params else "",
        },
    )


@public
async def request_link(request: Request) -> Response:
    """Email a sign-in link; one answer whether the address is known, unknown or capped."""
    form = await request.form()
    email = normalise_email(str(form.get("email", "")))
    next_path = safe_next(form.get("next"))
    if not EMAIL_SHAPE.match(email) or len(email) > 254:
        return page_or_block(
            request,
            "signin/form.html",
            {
                "errors": {"email": "Enter your work email address, like name@council.vic.gov.au"},
                "email": email,
                "next": next_path,
                "notice": "",
            },
            status_code=422,
        )
    # The limits cap the emails sent (may_email_link), never this answer, so nobody can lock
    # a colleague out, not even one sharing their clinic's address.
    ip_within_limit = await ratelimit.hit(f"signin:ip:{client_ip(request)}", SIGNIN_PER_IP_PER_HOUR)
    from web.signin import sso

    organisation = await sso.organisation_for(email)
    if organisation is not None and form.get("method") != "email":
        try:
            return await sso.start(request, organisation, email, next_path)
        except sso.SsoRefused:
            pass  # the provider is unreachable: email links remain the way in
    practitioner = await Practitioner.get_or_none(email=email, active=True)
    if practitioner is not None:
        await send_signin_link(request, practitioner, next_path, ip_within_limit)
    await audit.record(
        request,
        "signin.requested",
        actor_id=practitioner.id if practitioner else None,
        known=practitioner is not None,
    )
    return page_or_block(request, "signin/sent.html", {"email": email})


async def create_signin_token(practitioner: Practitioner, next_path: str = "/") -> str:
    """A fresh single-use token for `practitioner` (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    moment = now()
    await SignInToken.create(
        token_hash=token_hash(token),
        email=practitioner.email,
        practitioner=practitioner,
        next_path=next_path,
        created_at=moment,
        expires_at=moment + LINK_LIFETIME,
    )
    return token


def signin_url(base_url: str, token: str) -> str:
    return f"{base_url}/signin/link?{urlencode({'token': token})}"


def address_key(email: str) -> str:
    return "signin:addr:" + hashlib.sha256(email.encode()).hexdigest()[:32]


async def may_email_link(
    request: Request, practitioner: Practitioner, ip_within_limit: bool = True
) -> bool:
    """Within SIGNIN_RATE_PER_HOUR emails an hour to one address (and SIGNIN_PER_IP_PER_HOUR
    requests an hour from the requester's IP); beyond either, only when the address has no
    live link left (at most one per LINK_LIFETIME), so however many requests someone else
    makes, from anywhere or from the same clinic, the real person always has a working link
    in their inbox."""
    settings = request.app.state.settings
    if ip_within_limit and await ratelimit.hit(
        address_key(practitioner.email), settings.signin_rate_per_hour
    ):
        return True
    live = await SignInToken.filter(
        practitioner_id=practitioner.id,
        purpose="signin",
        used_at__isnull=True,
        expires_at__gt=now(),
    ).exists()
    if not live:
        return True
    reason = "address limit" if ip_within_limit else "ip limit"
    await audit.record(
        request, "signin.capped", actor_id=practitioner.id, reason=f"{reason}, link live"
    )
    return False


async def send_signin_link(
    request: Request, practitioner: Practitioner, next_path: str, ip_within_limit: bool = True
) -> bool:
    """Email a sign-in link unless it is capped (see may_email_link); True if sent."""
    if not await may_email_link(request, practitioner, ip_within_limit):
        return False
    settings = request.app.state.settings
    async with in_transaction():
        token = await create_signin_token(practitioner, next_path)
        await enqueue_email(
            practitioner.email,
            "Your Patchwork sign-in link",
            "Hello,\n\n"
            "Open this link to sign in to Patchwork. It works once, for the next 15 minutes:\n\n"
            f"{signin_url(settings.base_url, token)}\n\n"
            "If you did not ask to sign in, you can ignore this email.\n\n"
            "Patchwork shows you which other professionals are working with your client.\n",
            urgent=True,
        )
    return True


@public
async def confirm_link(request: Request) -> Response:
    """The page an emailed link opens: one button that finishes signing in."""
    token = request.query_params.get("token", "")
    return page_or_block(request, "signin/link.html", {"token": token[:100]})


@public
async def use_link(request: Request) -> Response:
    """Spend a sign-in token: start a session, or explain why not."""
    form = await request.form()
    token = str(form.get("token", ""))
    moment = now()
    record = await SignInToken.filter(token_hash=token_hash(token), purpose="signin").first()
    spent = 0
    if record is not None and record.expires_at > moment:
        # Conditional update: of two simultaneous uses of one link, only one wins.
        spent = await SignInToken.filter(id=record.id, used_at__isnull=True).update(used_at=moment)
    practitioner = (
        await Practitioner.get_or_none(id=record.practitioner_id, active=True)  # type: ignore[attr-defined]
        if spent and record is not None
        else None
    )
    if practitioner is None:
        await refuse_signin(
            request,
            record.practitioner_id if record else None,  # type: ignore[attr-defined]
            "email",
            "unknown token" if record is None else "expired, used or inactive",
        )
        return page_or_block(
            request,
            "signin/form.html",
            {
                "errors": {
                    "email": "That sign-in link has expired or was already used. "
                    "Enter your email to get a new one."
                },
                "email": record.email if record else "",
                "next": "/",
                "notice": "",
            },
            status_code=400,
        )
    assert record is not None
    redirect = RedirectResponse(safe_next(record.next_path), status_code=303)
    return await complete_signin(request, practitioner, "email", redirect)


async def refuse_signin(
    request: Request, practitioner_id: int | None, method: str, reason: str, *, charge: bool = True
) -> None:
    """Audit a failed sign-in, and (unless `charge` is False) count it against the account it
    names. Only passkey sign-in heeds the count (web/signin/passkeys.py,
    `ratelimit.account_locked`)."""
    await audit.record(
        request, "signin.failed", actor_id=practitioner_id, method=method, reason=reason
    )
    if practitioner_id is not None and charge:
        await ratelimit.record_failure(practitioner_id)


async def complete_signin(
    request: Request, practitioner: Practitioner, method: str, response: Response
) -> Response:
    """Start a session for `practitioner` on `response`. An account's failed sign-ins never
    refuse it here: emailed links are single-use secrets and the way to recover, so the
    account lock stops passkey sign-ins only (web/signin/passkeys.py)."""
    await start_session(request, response, practitioner, method)
    await audit.record(request, "signin.succeeded", actor_id=practitioner.id, method=method)
    return response


@public
async def signout(request: Request) -> Response:
    """Sign out: delete the session and clear this site's data from the browser."""
    session = request.state.session
    response = RedirectResponse("/signin?signed_out=1", status_code=303)
    if session is not None:
        await audit.record(request, "signout")
        await session.delete()
    clear_session_cookie(request.app.state.settings, response)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


routes = [
    Route("/signin", signin_form, methods=["GET"]),
    Route("/signin", request_link, methods=["POST"]),
    Route("/signin/link", confirm_link, methods=["GET"]),
    Route("/signin/link", use_link, methods=["POST"]),
    Route("/signout", signout, methods=["POST"]),
]
