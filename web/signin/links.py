"""Signing in by emailed link, and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.auth import SignInToken
from models.practitioners import Practitioner
from web.core import audit, ratelimit
from web.core.audit import client_ip
from web.core.auth import (
    clear_session_cookie,
    now,
    public,
    safe_next,
    token_hash,
)
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block
from web.core.signins import (
    EMAIL_SHAPE,
    complete_signin,
    normalise_email,
    refuse_signin,
    send_signin_link,
)
from web.signin import sso

#: Per client IP, generous: a whole clinic may share one address.
SIGNIN_PER_IP_PER_HOUR = 100


@queries(PAGE)
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


@queries(8)
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


@queries(PAGE)
@public
async def confirm_link(request: Request) -> Response:
    """The page an emailed link opens: one button that finishes signing in."""
    token = request.query_params.get("token", "")
    return page_or_block(request, "signin/link.html", {"token": token[:100]})


@queries(8)
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


@queries(PAGE)
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
